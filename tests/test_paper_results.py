"""The results reader: a results root or a plain study folder; sims of one scheme, sorted."""

import json

from boolgrad.paper import results


def _sim(d, name, **kw):
    (d / "sim").mkdir(parents=True, exist_ok=True)
    (d / "sim" / f"{name}.json").write_text(json.dumps(kw))


def test_study_dir_load_sims_and_overshoot(tmp_path):
    study = tmp_path / "study"
    _sim(study, "a", dataset="digits", scheme="exact", dt_over_tau=0.25)
    _sim(study, "b", dataset="digits", scheme="exact", dt_over_tau=1.0)
    _sim(study, "c", dataset="digits", scheme="authors", dt_over_tau=1.0)
    (study / "sim" / "broken.json").write_text("{")
    assert results.study_dir(tmp_path) == study and results.study_dir(study) == study
    for root in (tmp_path, study):
        assert [s["dt_over_tau"] for s in results.load_sims(root)] == [1.0, 0.25]
        assert [s["scheme"] for s in results.load_sims(root, scheme=None)] == ["authors", "exact", "exact"]
    assert results.read_overshoot(tmp_path) == []
    (study / "overshoot.csv").write_text("dataset,kind,scheme,readout,dt_over_tau,test_acc\n"
                                         "digits,arctan,exact,mse_count,0.5,0.75\n"
                                         "digits,arctan,exact,mse_count,0.5,0.25\n")
    rows = results.read_overshoot(tmp_path)
    assert rows[0]["test_acc"] == "0.75"
    assert results.accuracy_cells(rows) == {("digits", "arctan", "exact", "mse_count", 0.5): [0.75, 0.25]}


def test_seeds(tmp_path):
    assert results.seeds_csvs(tmp_path) == [] and results.read_seeds(tmp_path) == {}
    d = results.seeds_dir(tmp_path)
    d.mkdir()
    (d / "seed002.csv").write_text("lr,test_acc\n0.001,0.5\n")
    assert results.read_seeds(tmp_path) == {"seed002": [{"lr": "0.001", "test_acc": "0.5"}]}

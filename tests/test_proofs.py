"""boolgrad.proofs: every theorem holds (fast checks by default, wide ones under -m slow),
the runner reports failures, and the sympy helpers refuse false claims."""

from __future__ import annotations

import pytest

sp = pytest.importorskip("sympy", reason="the proofs need sympy (boolgrad[proofs])")

from boolgrad.proofs import _common  # noqa: E402

from boolgrad import proofs  # noqa: E402  (after the importorskip)


@pytest.mark.parametrize("name", proofs.THEOREMS)
def test_theorem_holds(name):
    r = proofs.run_one(name)
    assert r.ok, r.error
    assert r.name == name and r.symbolic and r.numeric and r.seconds > 0
    assert "formats" in r.numeric  # says what it checked


@pytest.mark.slow
def test_all_theorems_hold_with_slow_checks():
    results = proofs.run_all(include_slow=True)
    assert [r.name for r in results] == list(proofs.THEOREMS)
    bad = [(r.name, r.error) for r in results if not r.ok]
    assert not bad, bad


def test_every_theorem_module_has_statement_and_parts():
    for name in proofs.THEOREMS:
        mod = proofs._module(name)
        assert "Theorem" in (mod.__doc__ or ""), f"{name}: statement missing"
        assert callable(mod.symbolic) and callable(mod.numeric) and mod.TITLE


def test_main_prints_rows_and_exit_status(capsys):
    assert proofs.main(["--only", "straddle_blocks", "per_bit_count"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line for line in out if line.startswith(("straddle_blocks", "per_bit_count"))]
    assert len(rows) == 2 and all(" ok " in row for row in rows)
    assert out[-1].startswith("2/2 theorems hold")


def test_a_failing_theorem_fails_the_run(monkeypatch, capsys):
    mod = proofs._module("per_bit_count")

    def wrong() -> str:
        _common.check(_common.is_zero(sp.Integer(1)), "1 == 0")
        return "unreachable"

    monkeypatch.setattr(mod, "symbolic", wrong)
    r = proofs.run_one("per_bit_count")
    assert not r.ok and "1 == 0" in r.error
    assert proofs.main(["--only", "per_bit_count"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_a_wrong_numeric_claim_is_caught(monkeypatch):
    """Perturb the per-bit count formula: the enumeration cross-check must notice."""
    mod = proofs._module("per_bit_count")
    monkeypatch.setattr(mod, "count_formula", lambda n, R, i: 2 * min(R % (2 << i), (2 << i) - R % (2 << i)) + (i == 1))
    with pytest.raises(AssertionError):
        mod.numeric()


def test_sympy_helpers_refuse_false_claims():
    i = sp.Symbol("i", integer=True, nonnegative=True)
    x = sp.Symbol("x", integer=True, nonnegative=True)
    assert _common.positive(2**i)
    assert _common.positive(2 ** (i + 1) - 1)
    assert not _common.positive(2**i - 2)  # false at i = 0
    assert not _common.positive(2**i - i - 1)  # false at i = 0 (and undecidable this way)
    assert _common.positive_on_box(x + 1, {x: (0, 5)})
    assert not _common.positive_on_box(3 - x, {x: (0, 5)})
    with pytest.raises(AssertionError):
        _common.check(sp.Symbol("y") > 0, "undecided relational is not a proof")
    _common.check(sp.Integer(2) > 1, "decided relational")

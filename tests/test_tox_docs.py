"""The documents keep their promises: every `tox -e NAME` they name is an env of tox.ini, every
relative link resolves (anchors included), nothing points outside the repository, and the README
is a front door (short, no generated block, its test command the one .ci/run runs)."""

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the hand-written documents (results/ holds generated reports; docs/results.md is checked too)
DOC_DIRS = ("docs", "paper", "figures", "benchmarks", "proofs")
#: the project's sources outside the repository (spelled in pieces so that this file does not match)
OUTSIDE = re.compile("|".join((r"\.\./" + "shared", "shared" + "/seeds", "shared" + "/SPEC")))


def _documents() -> list[Path]:
    docs = [ROOT / "README.md"]
    for d in DOC_DIRS:
        docs += sorted((ROOT / d).rglob("*.md"))
    return docs


def _tox_envs() -> set[str]:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "tox.ini")
    return {s.split(":", 1)[1] for s in cfg.sections() if s.startswith("testenv:")}


def test_every_tox_env_named_in_the_documents_exists():
    envs = _tox_envs()
    assert {"numpy", "full", "slow", "quick", "paper"} <= envs
    named = {}
    for path in _documents():
        for m in re.finditer(r"tox -e ([\w,-]+)", path.read_text()):
            for name in m.group(1).split(","):
                named.setdefault(name, path.relative_to(ROOT).as_posix())
    missing = {n: where for n, where in named.items() if n not in envs}
    assert not missing, f"tox envs named in the documents but not defined in tox.ini: {missing}"


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.MULTILINE)}


def test_relative_links_in_the_documents_resolve():
    broken = []
    for path in _documents():
        text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            file, _, anchor = target.partition("#")
            dest = (path.parent / file).resolve() if file else path
            if not dest.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{path.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "broken links: " + "; ".join(broken)


def test_no_file_points_outside_the_repository():
    hits = []
    for path in [*ROOT.glob("*.md"), *[p for d in ("boolgrad", "docs", "paper", "figures", "benchmarks",
                                                      "proofs", "scripts", "tests", "examples")
                                       for ext in ("py", "md", "tex") for p in (ROOT / d).rglob(f"*.{ext}")]]:
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}")
    assert not hits, f"references outside the repository: {hits}"


def test_readme_is_a_front_door():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 250
    import re  # generated blocks live in docs/results.md, but for the decisive study's verdict
    assert re.findall(r"<!-- results:([a-z_]+) -->", readme) == ["decisive_verdict"]
    assert "docs/spec.md" in readme and "spec §n" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    demo, test = 'pip install ".[plot]" && boolgrad demo', 'pip install torch==2.13.0 ".[all,test]" && pytest'
    assert demo in readme and test in readme
    assert test + "\n" in ci  # .ci/run runs the README's test command

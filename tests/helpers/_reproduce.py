"""The tiny reproduction shared by tests/test_reproduce.py and tests/test_figures.py."""

from pathlib import Path


def build_tiny(base: Path) -> Path:
    """The tiny reproduction (no PDF), built once per session under ``base``."""
    from boolgrad.cli import main

    out = Path(base) / "reproduce-tiny"
    if not (out / "manifest.json").exists():
        assert main(["reproduce", "--quick", "--grid", "tiny", "--no-pdf", "--out", str(out)]) == 0
    return out

"""Run the README's marked example and record what it printed (``results/examples/readme_digits.json``).

    python scripts/readme_examples.py          # then: python scripts/publish_results.py

The code block that follows ``<!-- example:digits -->`` in README.md runs as it stands, in a
scratch folder (it writes its table there), and its standard output is recorded with the
code's SHA-256, torch's version and thread count.  ``scripts/publish_results.py`` writes the
sentence about it in ``docs/results.md`` from the record, and says so instead when the README's
code is no longer the code the record ran: no number in the documents is typed by hand.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "results" / "examples" / "readme_digits.json"


def example_code(readme: str, name: str = "digits") -> str:
    """The ```python block right after ``<!-- example:NAME -->``."""
    m = re.search(rf"<!-- example:{name} -->\n```python\n(.*?)```", readme, re.DOTALL)
    if m is None:
        raise SystemExit(f"README.md has no <!-- example:{name} --> python block")
    return m.group(1)


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def main() -> int:
    sys.path.insert(0, str(ROOT))
    code = example_code((ROOT / "README.md").read_text())
    out = io.StringIO()
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            with contextlib.redirect_stdout(out):  # running the README's own code is the point
                compiled = compile(code, "README.md (example:digits)", "exec")
                exec(compiled, {"__name__": "__readme__"})  # noqa: S102
        finally:
            os.chdir(here)
    import torch

    from boolgrad.atomic import write_json_atomic

    write_json_atomic(RECORD, {"script": "scripts/readme_examples.py", "code_sha256": code_hash(code),
                               "stdout": out.getvalue(), "torch": torch.__version__,
                               "threads": torch.get_num_threads(),
                               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})
    print(out.getvalue(), end="")
    print(f"wrote {RECORD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

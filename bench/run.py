"""Run every benchmark in bench/ (each bench/*.py script but this one), one after the other.

    .venv/bin/python bench/run.py [name …]     # e.g. `bench/run.py inbox_intake`; `make bench`

Each script creates and drops its own database and prints its figures; this runner only
starts them and reports which failed (a script exits non-zero when its budget is not met).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != "run.py")
    if argv:
        scripts = [p for p in scripts if p.stem in argv]
    failed = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        start = time.monotonic()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"=== {script.stem}: {'ok' if code == 0 else f'exit {code}'} in {time.monotonic() - start:.0f} s ===",
              flush=True)
        if code != 0:
            failed.append(script.stem)
    if failed:
        print(f"\nFailed or over budget: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

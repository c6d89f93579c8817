"""Peak memory of `leadhub ingest preview` on hostile hotline exports, with the limits and without.

    python -m benchmarks.inbox_bombs [--cell-mb 200] [--no-unguarded]

Each row runs preview in its own process and reports that process's peak RSS (wait4) and time:
a normal 1,000-row export, a ~200 KB .xlsx holding a 200 MB cell (the bomb of issue 19) under the
default limits, the same bomb with the limits raised out of its way (what reading it whole costs),
and a sheet stating the largest dimension Excel has. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import REPO, print_table, write_json
from tests.bad_input import INBOX_COLUMNS, bomb_xlsx, dimension_bomb_xlsx, inbox_rows, xlsx_bytes


def _preview(path: Path, options: dict) -> dict:
    cmd = [sys.executable, "-m", "leadhub", "ingest", "preview", "--kind", "hotline_files", "--file", str(path),
           "--options", json.dumps({"columns": INBOX_COLUMNS, **options})]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
    proc.stderr.close()
    return {"exit": os.waitstatus_to_exitcode(status), "peak_rss_mb": usage.ru_maxrss / 1024,
            "seconds": time.monotonic() - started, "last_line": (err[-1] if err else "")[:110]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell-mb", type=int, default=200)
    parser.add_argument("--no-unguarded", action="store_true", help="skip reading the bomb with the limits raised")
    args = parser.parse_args()
    cell = args.cell_mb * 1000 * 1000
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "normal.xlsx": xlsx_bytes(inbox_rows("N", 1000)),
            "bomb.xlsx": bomb_xlsx(cell),
            "dimension.xlsx": dimension_bomb_xlsx(inbox_rows("D", 3)),
        }
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        cases = [("normal 1,000 rows", "normal.xlsx", {}), (f"bomb, {args.cell_mb} MB cell, default limits", "bomb.xlsx", {}),
                 ("dimension A1:XFD1048576", "dimension.xlsx", {})]  # fmt: skip
        if not args.no_unguarded:
            raised = {"max_unzipped_bytes": 2 * cell, "max_compression_ratio": 1e9, "max_cell_chars": 2 * cell}
            cases.append((f"bomb, {args.cell_mb} MB cell, limits raised", "bomb.xlsx", raised))
        rows = []
        for label, name, options in cases:
            result = _preview(Path(tmp) / name, options)
            rows.append({"case": label, "file_kb": len(files[name]) / 1024, **result})
    print_table("ingest preview on hostile .xlsx exports (peak RSS of the preview process)", rows)
    write_json("inbox_bombs", {"cell_mb": args.cell_mb, "rows": rows})


if __name__ == "__main__":
    main()

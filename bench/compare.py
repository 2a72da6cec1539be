"""Two runs of bench/run.py side by side: every figure both `--json` files hold.

    .venv/bin/python bench/compare.py BEFORE.json AFTER.json [--markdown]

A figure is a number in the JSON (lists of runs are left out: their median is there too);
batches are named by class, size and jobs. Prints figure, before, after and after/before.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

SKIP = ("_runs_s", "runs_s", "grade_runs_s", "ipcgrade_s", "check50_s", "importtime_top10_us")


def figures(data: Any, path: str = "") -> Iterator[tuple[str, float]]:
    """Every numeric leaf of `data` with its path; a batch list is keyed by what it ran."""
    if isinstance(data, bool):
        return
    if isinstance(data, (int, float)):
        yield path, float(data)
    elif isinstance(data, dict):
        for k, v in data.items():
            if k in SKIP or k in ("machine", "load"):
                continue
            yield from figures(v, f"{path}.{k}" if path else str(k))
    elif isinstance(data, list) and data and isinstance(data[0], dict) and "klass" in data[0]:
        for b in data:
            name = f"{path}[{b['klass']} x{b['size']} jobs {b['jobs']}]"
            yield from figures({k: v for k, v in b.items() if k not in ("klass", "size", "jobs")},
                               name)  # fmt: skip


def paired(ipc: dict[str, Any]) -> Iterator[tuple[str, float]]:
    """The medians of the check50 pairs (the JSON keeps each run)."""
    import statistics

    for label, p in ipc.get("check50", {}).get("pairs", {}).items():
        for tool in ("ipcgrade_s", "check50_s"):
            if p.get(tool):
                yield f"check50.pairs.{label}.{tool} (median)", statistics.median(p[tool])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = ap.parse_args(argv)
    runs = [json.loads(p.read_text()) for p in (args.before, args.after)]
    got = [dict(figures(r)) | dict(paired(r)) for r in runs]
    names = [n for n in got[1] if n in got[0]] + [n for n in got[0] if n not in got[1]]
    rows = []
    for n in names:
        a, b = got[0].get(n), got[1].get(n)
        ratio = f"{b / a:.2f}" if a and b is not None else ""
        rows.append([n, "" if a is None else f"{a:.3f}", "" if b is None else f"{b:.3f}", ratio])
    header = ["figure", "before", "after", "after/before"]
    if args.markdown:
        print("| " + " | ".join(header) + " |\n|---|---:|---:|---:|")
        print("\n".join("| " + " | ".join(r) + " |" for r in rows))
    else:
        width = max(len(r[0]) for r in rows) if rows else 6
        print(f"{header[0]:<{width}}  {'before':>10}  {'after':>10}  {header[3]}")
        for r in rows:
            print(f"{r[0]:<{width}}  {r[1]:>10}  {r[2]:>10}  {r[3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

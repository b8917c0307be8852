"""The coverage gate of `make test`: lines and branches of the product, each against its own minimum.

coverage's own `--fail-under` checks one figure that mixes lines and branches (covered lines plus
covered branches over both), so a high line figure can hide branches below their target. This reads
`coverage json` output (of `--include='wizard/*,workers/*'`), prints both figures and exits 1,
naming the figure and the numbers, when either is below its minimum.

    coverage json --include='wizard/*,workers/*' -o test-output/coverage.json
    python scripts/coverage_gate.py test-output/coverage.json --lines 95 --branches 90
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def figures(report: dict) -> dict[str, tuple[int, int]]:
    """(covered, total) of lines and of branches over every file in the report."""
    lines = [0, 0]
    branches = [0, 0]
    for summary in (data["summary"] for data in report["files"].values()):
        lines[0] += summary["covered_lines"]
        lines[1] += summary["num_statements"]
        branches[0] += summary.get("covered_branches", 0)
        branches[1] += summary.get("num_branches", 0)
    return {"lines": (lines[0], lines[1]), "branches": (branches[0], branches[1])}


def percent(covered: int, total: int) -> float:
    return 100.0 * covered / total if total else 100.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="coverage json output")
    parser.add_argument("--lines", type=float, required=True, help="minimum line coverage, percent")
    parser.add_argument("--branches", type=float, required=True, help="minimum branch coverage, percent")
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text())
    except (OSError, ValueError) as exc:
        print(f"coverage gate: cannot read {args.report}: {exc}", file=sys.stderr)
        return 2
    if not report.get("meta", {}).get("branch_coverage"):
        print("coverage gate: the report has no branch data (run coverage with branch = true)", file=sys.stderr)
        return 2
    if not report.get("files"):
        print(f"coverage gate: {args.report} measured no files", file=sys.stderr)
        return 2
    measured = figures(report)
    minimums = {"lines": args.lines, "branches": args.branches}
    failed = []
    for name, (covered, total) in measured.items():
        reached = percent(covered, total)
        verdict = "ok" if reached >= minimums[name] else "BELOW"
        print(f"coverage gate: {name:8} {reached:6.2f} % ({covered}/{total}), minimum {minimums[name]:g} %: {verdict}")
        if verdict != "ok":
            failed.append(f"{name} {reached:.2f} % < {minimums[name]:g} %")
    if failed:
        print(f"coverage gate FAILED over {len(report['files'])} files: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

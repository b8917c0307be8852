"""`make test`'s coverage gate (scripts/coverage_gate.py): lines and branches each against their own
minimum, so a high line figure cannot hide branches below theirs (coverage's --fail-under mixes them)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def _report(tmp_path, files: dict[str, tuple[int, int, int, int]], branch: bool = True):
    """files: name -> (covered lines, statements, covered branches, branches), as `coverage json` writes them."""
    data = {
        "meta": {"branch_coverage": branch},
        "files": {
            name: {
                "summary": {
                    "covered_lines": lines,
                    "num_statements": statements,
                    "covered_branches": covered,
                    "num_branches": branches,
                }
            }
            for name, (lines, statements, covered, branches) in files.items()
        },
    }
    path = tmp_path / "coverage.json"
    path.write_text(json.dumps(data))
    return path


def _gate(path, lines: str = "95", branches: str = "90"):
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "coverage_gate.py"),
            str(path),
            "--lines",
            lines,
            "--branches",
            branches,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_high_lines_do_not_hide_branches_below_their_minimum(tmp_path):
    # 98 % of lines, 87.5 % of branches: coverage's combined figure, 95.0 %, would pass a 94 % gate
    path = _report(tmp_path, {"wizard/a.py": (930, 950, 300, 350), "workers/b.py": (50, 50, 50, 50)})
    result = _gate(path)
    assert result.returncode == 1
    assert "coverage gate: lines     98.00 % (980/1000), minimum 95 %: ok" in result.stdout
    assert "coverage gate: branches  87.50 % (350/400), minimum 90 %: BELOW" in result.stdout
    assert "coverage gate FAILED over 2 files: branches 87.50 % < 90 %" in result.stderr


def test_both_figures_at_their_minimum_pass(tmp_path):
    path = _report(tmp_path, {"wizard/a.py": (95, 100, 90, 100)})
    result = _gate(path)
    assert result.returncode == 0, result.stderr
    assert "lines     95.00 % (95/100), minimum 95 %: ok" in result.stdout
    assert "branches  90.00 % (90/100), minimum 90 %: ok" in result.stdout


def test_branches_below_fail_alone(tmp_path):
    result = _gate(_report(tmp_path, {"wizard/a.py": (100, 100, 89, 100)}))
    assert result.returncode == 1 and "branches 89.00 % < 90 %" in result.stderr and "lines" not in result.stderr


def test_a_report_without_branches_or_files_is_refused(tmp_path):
    no_branches = _gate(_report(tmp_path, {"wizard/a.py": (1, 1, 0, 0)}, branch=False))
    assert no_branches.returncode == 2 and "no branch data" in no_branches.stderr
    empty = _gate(_report(tmp_path, {}))
    assert empty.returncode == 2 and "measured no files" in empty.stderr
    missing = _gate(tmp_path / "nowhere.json")
    assert missing.returncode == 2 and "cannot read" in missing.stderr

"""Helpers shared by the CLI's tests (import them: ``from tests.cli.conftest import run_main, …``).

The error contract of every command: exit status 2 and exactly one line ``error: …`` on stderr, never a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from explorer import cli

REPO = Path(__file__).resolve().parents[2]


def run_main(capsys, *argv: str) -> tuple[int, str, str]:
    """``python -m explorer ARGV`` in-process: (exit code, stdout, stderr)."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_process(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m explorer ARGV`` as a real process, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "explorer", *argv], cwd=REPO, capture_output=True, text=True, timeout=timeout,
    )


def assert_one_error_line(err: str) -> str:
    """stderr is one line ``error: …`` and no traceback; that line."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    return lines[0]

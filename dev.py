#!/usr/bin/env python3
"""Bootstrap for a fresh clone: `python3 dev.py demo` runs the bot, `python3 dev.py test` tests it.

`python3 dev.py lint` runs ruff check, ruff format --check, mypy and lint-imports, in that order.

Creates `.venv` on first use, installs Tsunagari with its test extras into it, then runs the
command inside it. Needs only Python 3.11-3.13.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".tsunagari-installed"


def ensure_environment() -> None:
    """Create the virtualenv and install the project when pyproject.toml changed."""
    if sys.version_info < (3, 11) or sys.version_info >= (3, 14):
        sys.exit(
            "Tsunagari needs Python 3.11, 3.12 or 3.13 (line-bot-sdk v3 does not run on 3.14)."
        )
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    if STAMP.exists() and STAMP.read_bytes() == pyproject:
        return
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_bytes(pyproject)


LINTERS = (
    ("ruff check", ["ruff", "check"]),
    ("ruff format --check", ["ruff", "format", "--check"]),
    ("mypy", ["mypy"]),
    ("lint-imports", ["lint-imports"]),
)


def lint() -> int:
    """Run every linter in order (each reads its settings from pyproject.toml); fail if any fails.

    All of them run even after a failure, so one run shows every problem.
    """
    failed = []
    for name, command in LINTERS:
        print(f"== {name}", flush=True)
        # The checkout's own `bot` is the one checked, even when another copy is installed.
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        if subprocess.call([str(BIN / command[0]), *command[1:]], cwd=ROOT, env=env):
            failed.append(name)
    if failed:
        print(f"lint failed: {', '.join(failed)}", flush=True)
        return 1
    return 0


def main(argv: list[str]) -> int:
    """Run `demo`, `test`, or any `tsunagari` sub-command inside the project environment."""
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    ensure_environment()
    command, rest = argv[0], argv[1:]
    if command == "test":
        return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)
    if command == "lint":
        if rest:
            sys.exit("dev.py lint takes no arguments (each tool reads pyproject.toml)")
        return lint()
    return subprocess.call([str(BIN / "tsunagari"), command, *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

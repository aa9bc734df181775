"""Everything the quick start creates in JIUM_DATA_DIR is readable by its own user only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quick_start_files_are_private_whatever_the_callers_umask(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_", "JIUM_", "SECRET_KEY"))}  # fmt: skip
    env["JIUM_DATA_DIR"] = str(data)
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
        preexec_fn=lambda: os.umask(0o022),  # a typical login shell: files world-readable by default
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir() if p.is_file()}
    assert {"jium.sqlite3", "secret.key", "encryption.key"} <= set(modes)
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}
    assert stat.S_IMODE(data.stat().st_mode) & 0o077 == 0

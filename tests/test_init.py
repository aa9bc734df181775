"""app/__init__.py: every Jium process (web, worker, commands) does its numpy work on one BLAS thread."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROBE = (
    "import os, sys; import app; assert 'numpy' not in sys.modules, 'numpy imported before the limit'; "
    "import numpy; print(os.environ['OPENBLAS_NUM_THREADS'], len(os.listdir('/proc/self/task')))"
)


def _probe(**env: str) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0], int(out[1])


def test_importing_app_limits_openblas_to_one_thread_before_numpy_loads() -> None:
    value, threads = _probe()
    assert value == "1"
    # The same threads as when the limit is given from outside: OpenBLAS started no pool of its own.
    assert threads == _probe(OPENBLAS_NUM_THREADS="1")[1]
    # An operator's own setting wins.
    assert _probe(OPENBLAS_NUM_THREADS="2")[0] == "2"

import os

# One BLAS thread per process, set before anything imports numpy (OpenBLAS reads it once, when it
# loads). Jium runs several processes per machine (web and worker pool) and each works on small
# arrays: OpenBLAS's own threads then only fight those processes for the same cores, which made
# small numpy matrix products 10-100x slower on a busy 2-core machine. An explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from app.celery import app as celery_app

__all__ = ["celery_app"]

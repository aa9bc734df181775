"""Rebuilding an organisation's shared PDQ index file from the database (issue 17.2, limit).

Fills a throwaway PostgreSQL database with --n references of one organisation, each with a
full-size encrypted fingerprint (a real reference fingerprint of a photos-dev JPEG, ~100 KB
with its ORB features and mirror view, with random PDQ hashes put in) and its plain
``pdq_hashes`` column. Then, in alternating rounds, builds the organisation's index file from
scratch (``pdq_index_refresh`` on an empty index folder, as a new machine or a rebuild does):

* plain column: what the index reads now;
* fingerprints: the same rows with the column emptied, so every fingerprint is read and
  decrypted to get at its hashes (what every rebuild did before the column existed);

checks that both give the same index, and times the migration that fills the column for
existing rows (decrypting each fingerprint once).

    .venv/bin/python bench/matching_index_rebuild.py --postgres postgres://postgres@127.0.0.1:5432/postgres [--n 20000]
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postgres", required=True, help="server URL; a throwaway database is created on it")
    ap.add_argument("--n", type=int, default=20_000, help="references")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    import psycopg
    from cryptography.fernet import Fernet

    data_dir = Path(tempfile.mkdtemp(prefix="jium-bench-rebuild-"))
    db_name = f"jium_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "app.settings",
            "JIUM_DATA_DIR": str(data_dir),
            "DATABASE_URL": args.postgres.rsplit("/", 1)[0] + f"/{db_name}",
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "JIUM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        }
    )
    try:
        import django

        django.setup()
        import numpy as np
        from django.apps import apps
        from django.core.management import call_command
        from django.db import connection

        from app.accounts.services import organization_create
        from app.cases.models import Reference
        from app.cases.services import case_create
        from app.matching.decode import decode_media
        from app.matching.fingerprint import fingerprint_reference
        from app.matching.index import PdqIndex
        from app.matching.services import (
            pdq_index_path,
            pdq_index_refresh,
            pdq_indexes_clear,
            reference_index_hashes,
        )
        from tests.conftest import photo_paths

        call_command("migrate", verbosity=0)
        fill = importlib.import_module("app.cases.migrations.0006_reference_pdq_hashes").fill_pdq_hashes
        org = organization_create(name="Bench NGO")
        cases = [
            case_create(organization=org, actor=None, alias=f"c{i}", jurisdiction="KR")
            for i in range(max(1, args.n // 200))
        ]
        fp = fingerprint_reference(decode_media(photo_paths()[0].read_bytes()).frames[0])
        rng = np.random.default_rng(0)
        started = time.perf_counter()
        batch = []
        fp_size = 0
        for i in range(args.n):
            h = rng.integers(0, 256, (9, 32), dtype=np.uint8)
            fp.pdq, fp.pdq_dihedral, fp.pdq_trim = (
                h[0].tobytes(),
                [r.tobytes() for r in h[1:8]],
                h[8].tobytes(),
            )
            blob = fp.to_bytes()
            fp_size = len(blob)
            batch.append(
                Reference(
                    case=cases[i % len(cases)], pdq_hex=fp.pdq.hex(), pdq_quality=fp.pdq_quality,
                    fingerprint=blob, pdq_hashes=reference_index_hashes(fingerprint=fp),
                )
            )  # fmt: skip
            if len(batch) == 500:
                Reference.objects.bulk_create(batch)
                batch = []
        if batch:
            Reference.objects.bulk_create(batch)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('cases_reference')")
            table_mb = cursor.fetchone()[0] / 1e6
        print(
            f"{args.n} references, fingerprint {fp_size / 1000:.0f} KB each (encrypted at rest), "
            f"table {table_mb:.0f} MB; filled in {time.perf_counter() - started:.0f} s; "
            f"load {'/'.join(f'{x:.1f}' for x in os.getloadavg())}",
            flush=True,
        )

        def build() -> tuple[float, PdqIndex]:
            pdq_indexes_clear()
            connection.close()  # a cold connection each time, as a new process has
            t = time.perf_counter()
            state = pdq_index_refresh(organization_id=org.pk)
            elapsed = time.perf_counter() - t
            assert state.file_refs_alive == args.n
            return elapsed, PdqIndex.open(pdq_index_path(organization_id=org.pk))

        plain: list[float] = []
        sealed: list[float] = []
        fills: list[float] = []
        for r in range(args.rounds):
            t_plain, ix_plain = build()
            plain.append(t_plain)
            Reference.objects.update(pdq_hashes=None)
            t_sealed, ix_sealed = build()
            sealed.append(t_sealed)
            same = np.array_equal(ix_plain._ids, ix_sealed._ids) and np.array_equal(
                ix_plain._codes, ix_sealed._codes
            )
            t = time.perf_counter()
            fill(apps, None)
            fills.append(time.perf_counter() - t)
            assert Reference.objects.filter(pdq_hashes__isnull=True).count() == 0
            print(
                f"round {r + 1}: plain column {t_plain:6.2f} s, decrypting fingerprints {t_sealed:6.2f} s "
                f"({t_sealed / t_plain:.0f}x); same index: {same}; migration fill {fills[-1]:.1f} s; "
                f"load {'/'.join(f'{x:.1f}' for x in os.getloadavg())}",
                flush=True,
            )
            if not same:
                raise SystemExit("the two builds differ")
        p, s = statistics.median(plain), statistics.median(sealed)
        print(
            f"median: rebuild from the plain column {p:.2f} s ({1e6 * p / args.n:.0f} us per reference), "
            f"from decrypted fingerprints {s:.2f} s ({1e6 * s / args.n:.0f} us per reference): {s / p:.1f}x faster; "
            f"one-off migration fill {statistics.median(fills):.1f} s"
        )
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

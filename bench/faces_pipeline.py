"""Scan pipeline throughput with the face stage on and off, through a real Celery worker.

The same local pages as bench/pipeline_throughput.py (each shows K photos from photos-dev; one
page in ten shows one of the case's reference photos). In each round the same URLs are reported to two fresh
cases that differ only in the face stage: "off" (the default: no consent, no face photos) and
"on" (consent recorded, 3 face photos of one LFW person). Rounds alternate which case goes
first so load from elsewhere falls on both alike. Prints URLs/s for each and the ratio on/off.

    .venv/bin/python bench/faces_pipeline.py [--urls N] [--images K] [--concurrency P]
        [--postgres URL --broker URL]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from pipeline_throughput import SITE, serve, wait_final  # noqa: E402

FACES = REPO.parent / "shared" / "data" / "faces-dev"
if not FACES.exists():
    FACES = Path("/work/shared/data/faces-dev")
PERSON = "Alex_Sink"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", type=int, default=200)
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--postgres", help="server URL; a throwaway database is created on it")
    parser.add_argument("--broker", help="Celery broker URL (default: the quick-start SQLite broker)")
    args = parser.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    data_dir = Path(tempfile.mkdtemp(prefix="jium-bench-faces-"))
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "app.settings",
            "JIUM_DATA_DIR": str(data_dir),
            "CELERY_QUEUE": queue,
            "FETCH_ALLOWED_PRIVATE_NETWORKS": f"{SITE}/32",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    db_name = None
    if args.postgres:
        import psycopg

        db_name = f"jium_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        os.environ["DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + f"/{db_name}"
    if args.broker:
        os.environ["CELERY_BROKER_URL"] = args.broker

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from app.accounts.models import Role
    from app.accounts.services import member_create, organization_create
    from app.cases.models import Reference
    from app.cases.services import case_create, reference_add_image, reported_urls_add
    from app.faces.models import FaceEmbedding, FaceMatch
    from app.faces.services import face_consent_grant, face_photos_add
    from app.matching.models import Match
    from tests.fetching.servers import photo_bytes, photo_names

    call_command("migrate", verbosity=0)
    names = photo_names()
    ctx = mp.get_context("fork")
    port_queue = ctx.Queue()
    server = ctx.Process(target=serve, args=(port_queue, args.images), daemon=True)
    server.start()
    base = f"http://{SITE}:{port_queue.get(timeout=30)}"
    worker: subprocess.Popen[bytes] | None = None
    try:
        org = organization_create(name="Bench NGO")
        owner = member_create(
            organization=org,
            username="bench",
            password="bench-password-1234",  # noqa: S106
            role=Role.ADMIN,
        )
        template = case_create(organization=org, actor=owner.user, alias="template", jurisdiction="KR")
        for name in names[:2]:
            reference_add_image(case=template, actor=owner.user, data=photo_bytes(name), filename=name)
        face_consent_grant(
            case=template, actor=owner.user, consenter="person", method="bench",
            consented_at=datetime.now(UTC), language="en",
        )  # fmt: skip
        face_photos_add(
            case=template,
            actor=owner.user,
            photos=[(f"{n}.jpg", (FACES / "people" / PERSON / f"{n}.jpg").read_bytes()) for n in (1, 2, 3)],
        )

        def new_case(alias: str, faces: bool):  # type: ignore[no-untyped-def]
            c = case_create(organization=org, actor=None, alias=alias, jurisdiction="KR")
            for ref in Reference.objects.filter(case=template).order_by("id"):
                Reference.objects.create(
                    case=c, label=ref.label, source=ref.source, pdq_hex=ref.pdq_hex,
                    pdq_quality=ref.pdq_quality, fingerprint=ref.fingerprint, hash_versions=ref.hash_versions,
                )  # fmt: skip
            if faces:
                face_consent_grant(
                    case=c, actor=None, consenter="person", method="bench",
                    consented_at=datetime.now(UTC), language="en",
                )  # fmt: skip
                for f in FaceEmbedding.objects.filter(case=template):
                    FaceEmbedding.objects.create(
                        case=c, label=f.label, embedding=bytes(f.embedding), model_version=f.model_version
                    )
            return c

        print(
            f"{args.urls} URLs x {args.images} images per stage setting, concurrency {args.concurrency}; "
            f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
            f"broker {settings.CELERY_BROKER_URL.split(':', 1)[0]}"
        )
        log = data_dir / "worker.log"
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app", "worker", "-Q", queue, "-n", f"{queue}@%h",
             "--concurrency", str(args.concurrency), "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
            cwd=REPO, env=os.environ.copy(), stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        # Warm both paths (model loading happens once per worker process).
        for faces in (False, True):
            warm = new_case(f"warm {faces}", faces)
            urls = [f"{base}/post/warm-{j}" for j in range(4 * args.concurrency)]
            reported_urls_add(case=warm, actor=None, urls=urls)
            wait_final(warm, len(urls), timeout=600)
        connections.close_all()

        keys = [str(i) for i in range(args.urls)]
        rounds = max(1, min(args.rounds, args.urls))
        total = {False: 0.0, True: 0.0}
        for r in range(rounds):
            chunk = keys[r::rounds]
            for faces in (False, True) if r % 2 == 0 else (True, False):
                c = new_case(f"round {r} {'on' if faces else 'off'}", faces)
                started = time.monotonic()
                reported_urls_add(case=c, actor=None, urls=[f"{base}/post/{key}" for key in chunk])
                took = wait_final(c, len(chunk), timeout=1800) - started
                total[faces] += took
                print(
                    f"round {r + 1}/{rounds}: face stage {'on ' if faces else 'off'}  {len(chunk)} URLs  {took:6.1f} s",
                    flush=True,
                )

        off, on = total[False], total[True]
        face_matches = FaceMatch.objects.filter(reported_url__case__alias__startswith="round ").count()
        matches_on = Match.objects.filter(reported_url__case__alias__regex=r"^round \d+ on$").count()
        matches_off = Match.objects.filter(reported_url__case__alias__regex=r"^round \d+ off$").count()
        print(f"face stage off: {off:7.1f} s  ({args.urls / off:5.2f} URLs/s; {matches_off} image matches)")
        print(
            f"face stage on:  {on:7.1f} s  ({args.urls / on:5.2f} URLs/s; {matches_on} image matches, {face_matches} face matches)"
        )
        print(f"ratio on / off: {on / off:.2f}")
        from app.cases.models import ReportedUrl, UrlState

        failed = ReportedUrl.objects.filter(case__alias__startswith="round ", state=UrlState.FAILED)
        if failed.exists():
            print(f"WARNING: {failed.count()} URLs failed, e.g. {failed.first().error!r}")
        return 0
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        server.terminate()
        connections.close_all()
        if db_name and args.postgres:
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""Pipeline overhead: N reported URLs through real Celery workers vs the same work in a bare loop.

A local server (its own process, 127.0.0.2) serves N pages, each showing K photos from
photos-dev (one page in ten shows one of the case's two reference photos). In the same run:

* bare loop: a pool of P processes (P = the workers' concurrency) fetches every page and every
  image through app.lib.http.fetch and decodes, fingerprints and matches each image, with the
  same per-page thread pool the scanner uses. No extraction (the image URLs are known), no
  queue, no database: only the downloads and the hashing;
* pipeline: the URLs are reported with ``reported_urls_add`` (which queues one Celery task per
  URL), one ``celery worker --concurrency P`` runs them, and the clock stops when every URL has
  reached its final state in the database (evidence, media items and matches written).

Both sides are warmed up first. Prints both times and the ratio pipeline / bare (target <= 1.25).

    .venv/bin/python bench/pipeline_throughput.py                      # quick start: SQLite + SQLite broker
    .venv/bin/python bench/pipeline_throughput.py --postgres postgres://postgres@127.0.0.1:5432/postgres \\
        --broker redis://127.0.0.1:6379/15                              # production backends
Options: --urls N (1000), --images K (2), --concurrency P (CPU count).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SITE = "127.0.0.2"
REF_EVERY = 10  # one page in ten shows a reference photo


def page_images(i: int, k: int, n_photos: int) -> list[int]:
    """Photo indexes shown on page i; index 0 and 1 are the references."""
    if i % REF_EVERY == 0:
        return [i // REF_EVERY % 2] + [2 + (i * k + j) % (n_photos - 2) for j in range(1, k)]
    return [2 + (i * k + j) % (n_photos - 2) for j in range(k)]


def serve(port_out: mp.Queue, k: int) -> None:  # type: ignore[type-arg]
    from tests.fetching.servers import LocalServer, photo_bytes, photo_names, send

    names = photo_names()
    server = LocalServer(SITE)

    def page(h) -> None:  # type: ignore[no-untyped-def]
        key = h.path_only.rsplit("/", 1)[-1]
        i = int(key.removeprefix("warm-")) + (10**6 if key.startswith("warm-") else 0)
        imgs = "".join(
            f'<img src="/img/{i}-{j}/{names[p]}">' for j, p in enumerate(page_images(i, k, len(names)))
        )
        send(
            h,
            f"<!doctype html><html><body><h1>post {key}</h1>{imgs}</body></html>".encode(),
            content_type="text/html",
        )

    def image(h) -> None:  # type: ignore[no-untyped-def]
        send(h, photo_bytes(h.path_only.rsplit("/", 1)[-1]), content_type="image/jpeg")

    server.prefix_routes["/post/"] = page
    server.prefix_routes["/img/"] = image
    port_out.put(server.port)
    server.serve_forever(poll_interval=0.05)


# ---- bare loop ---------------------------------------------------------------------------------

_bare: dict[str, object] = {}


def _bare_init(reference_blobs: list[bytes], base: str, k: int) -> None:
    from app.lib.http import policy_from_settings
    from app.matching.engine import Matcher
    from app.matching.fingerprint import Fingerprint
    from tests.fetching.servers import photo_names

    _bare["matcher"] = Matcher([(i, Fingerprint.from_bytes(b)) for i, b in enumerate(reference_blobs)])
    _bare["policy"] = policy_from_settings()
    _bare["base"], _bare["k"], _bare["names"] = base, k, photo_names()


def _bare_image(url: str) -> int:
    from django.conf import settings

    from app.lib.http import fetch
    from app.matching.decode import decode_media
    from app.matching.fingerprint import fingerprint_candidate

    response = fetch(url, policy=_bare["policy"])  # type: ignore[arg-type]
    media = decode_media(response.body, max_pixels=settings.FETCH_MAX_PIXELS)
    found = 0
    for frame in media.frames:
        if _bare["matcher"].match(fingerprint_candidate(frame)) is not None:  # type: ignore[attr-defined]
            found = 1
    return found


def bare_page(key: str) -> int:
    from app.lib.http import fetch

    base, k, names = _bare["base"], _bare["k"], _bare["names"]
    fetch(f"{base}/post/{key}", policy=_bare["policy"])  # type: ignore[arg-type]
    i = int(key.removeprefix("warm-")) + (10**6 if key.startswith("warm-") else 0)
    urls = [f"{base}/img/{i}-{j}/{names[p]}" for j, p in enumerate(page_images(i, k, len(names)))]  # type: ignore[arg-type]
    with concurrent.futures.ThreadPoolExecutor(
        max_workers=min(4, len(urls)), thread_name_prefix="bare"
    ) as pool:
        return sum(pool.map(_bare_image, urls))


def service_page(reported_url_id: int) -> None:
    """Diagnostic: the pipeline's service called directly in a pool process (no Celery)."""
    from app.cases.services import reported_url_scan

    reported_url_scan(reported_url_id=reported_url_id)


# ---- pipeline ----------------------------------------------------------------------------------


class PeakMemory:
    """Polls the Celery worker's process tree; peak RSS of each process (MB)."""

    def __init__(self, pid: int) -> None:
        import threading

        self.pid = pid
        self.peak: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                for p in [root, *root.children(recursive=True)]:
                    rss = p.memory_info().rss / 1e6
                    self.peak[p.pid] = max(self.peak.get(p.pid, 0.0), rss)
            except psutil.Error:
                pass
            self._stop.wait(0.2)

    def stop(self) -> dict[int, float]:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.peak


def added_to_checked(case_alias_prefix: str) -> list[float]:
    """Seconds from "added" (row created) to "checked" (last scan) of every URL of these cases."""
    from app.cases.models import ReportedUrl

    rows = ReportedUrl.objects.filter(case__alias__startswith=case_alias_prefix).values_list(
        "created_at", "last_scanned_at"
    )
    return sorted((done - added).total_seconds() for added, done in rows if done is not None)


def queries_per_url(case, urls: list[str]) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """The pipeline's service for each URL in this process, counting its database queries
    (the Celery task is a thin wrapper that calls the same service)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from app.cases.models import ReportedUrl
    from app.cases.services import reported_url_scan, url_key
    from app.lib.urls import normalize_url

    counts = []
    for u in urls:
        normalized = normalize_url(u)
        row = ReportedUrl.objects.create(
            case=case, url=normalized, normalized_url=normalized, url_key=url_key(normalized), host=SITE
        )
        with CaptureQueriesContext(connection) as ctx:
            reported_url_scan(reported_url_id=row.pk)
        counts.append(len(ctx.captured_queries))
    return sum(counts) / max(len(counts), 1), max(counts, default=0)


def wait_final(case, count: int, timeout: float) -> float:  # type: ignore[no-untyped-def]
    from app.cases.models import ReportedUrl, UrlState

    final = [UrlState.MATCHED, UrlState.NO_MATCH, UrlState.FAILED]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ReportedUrl.objects.filter(case=case, state__in=final).count() >= count:
            return time.monotonic()
        time.sleep(0.05)
    raise SystemExit(f"pipeline did not finish within {timeout:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", type=int, default=1000)
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--postgres", help="server URL; a throwaway database is created on it")
    parser.add_argument("--broker", help="Celery broker URL (default: the quick-start SQLite broker)")
    parser.add_argument("--rounds", type=int, default=10, help="alternate bare and pipeline runs (noise)")
    parser.add_argument("--prefetch-multiplier", type=int, help="override the worker's prefetch multiplier")
    parser.add_argument("--diagnose", action="store_true", help="also run the service in a plain pool")
    args = parser.parse_args()

    # faiss's OpenMP threads make every match ~10x slower on small machines (and fight the
    # worker pool for cores); both sides run single-threaded unless told otherwise.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    data_dir = Path(tempfile.mkdtemp(prefix="jium-bench-"))
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
    if args.postgres:
        # Outside the quick start the web and workers refuse to start without configured
        # secrets, and the bench process and its worker must share the encryption key.
        from cryptography.fernet import Fernet

        os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex * 2)
        os.environ.setdefault("JIUM_ENCRYPTION_KEYS", Fernet.generate_key().decode())

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from app.accounts.models import Role
    from app.accounts.services import member_create, organization_create
    from app.cases.models import Reference, ReportedUrl
    from app.cases.services import case_create, reference_add_image, reported_urls_add, url_key
    from app.lib.urls import normalize_url
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
        case = case_create(organization=org, actor=owner.user, alias="bench", jurisdiction="KR")
        warm_case = case_create(organization=org, actor=owner.user, alias="warm-up", jurisdiction="KR")
        for c in (case, warm_case):
            for name in names[:2]:
                reference_add_image(case=c, actor=owner.user, data=photo_bytes(name), filename=name)
        blobs = [
            bytes(b)
            for b in Reference.objects.filter(case=case).order_by("id").values_list("fingerprint", flat=True)
        ]
        keys = [str(i) for i in range(args.urls)]
        warm = [f"warm-{j}" for j in range(4 * args.concurrency)]
        connections.close_all()  # forked processes must not share the connection

        print(f"{args.urls} URLs x {args.images} images, concurrency {args.concurrency}; "
              f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, broker {settings.CELERY_BROKER_URL.split(':', 1)[0]}, "
              f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")  # fmt: skip

        rounds = max(1, min(args.rounds, args.urls))
        chunks = [keys[r::rounds] for r in range(rounds)]
        log = data_dir / "worker.log"
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app", "worker", "-Q", queue, "-n", f"{queue}@%h",
             "--concurrency", str(args.concurrency), "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]
            + (["--prefetch-multiplier", str(args.prefetch_multiplier)] if args.prefetch_multiplier else []),
            cwd=REPO, env=os.environ.copy(), stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        memory = PeakMemory(worker.pid)
        reported_urls_add(case=warm_case, actor=None, urls=[f"{base}/post/{w}" for w in warm])
        wait_final(warm_case, len(warm), timeout=300)
        connections.close_all()
        bare = pipeline = service = queued = 0.0
        bare_matches = 0
        # Rounds alternate the two sides so that load from anything else on the machine falls
        # on both alike.
        with ctx.Pool(args.concurrency, initializer=_bare_init, initargs=(blobs, base, args.images)) as pool:
            pool.map(bare_page, warm, chunksize=1)
            for r, chunk in enumerate(chunks):
                started = time.monotonic()
                bare_matches += sum(pool.map(bare_page, chunk, chunksize=1))
                bare_round = time.monotonic() - started
                bare += bare_round

                round_case = case_create(organization=org, actor=None, alias=f"round {r}", jurisdiction="KR")
                for ref in Reference.objects.filter(case=case).order_by("id"):
                    Reference.objects.create(
                        case=round_case, label=ref.label, source=ref.source, pdq_hex=ref.pdq_hex,
                        pdq_quality=ref.pdq_quality, fingerprint=ref.fingerprint, hash_versions=ref.hash_versions,
                    )  # fmt: skip
                started = time.monotonic()
                reported_urls_add(case=round_case, actor=None, urls=[f"{base}/post/{key}" for key in chunk])
                queued += time.monotonic() - started
                pipe_round = wait_final(round_case, len(chunk), timeout=max(600, bare_round * 10)) - started
                pipeline += pipe_round
                line = f"round {r + 1}/{rounds}: {len(chunk)} URLs  bare {bare_round:6.1f} s  pipeline {pipe_round:6.1f} s"

                if args.diagnose:
                    diag_case = case_create(
                        organization=org, actor=None, alias=f"diag {r}", jurisdiction="KR"
                    )
                    for ref in Reference.objects.filter(case=case).order_by("id"):
                        Reference.objects.create(
                            case=diag_case, label=ref.label, source=ref.source, pdq_hex=ref.pdq_hex,
                            pdq_quality=ref.pdq_quality, fingerprint=ref.fingerprint, hash_versions=ref.hash_versions,
                        )  # fmt: skip
                    # Rows made directly, so that no task is queued for the worker.
                    ids = []
                    for key in chunk:
                        normalized = normalize_url(f"{base}/post/{key}")
                        ids.append(
                            ReportedUrl.objects.create(
                                case=diag_case, url=normalized, normalized_url=normalized,
                                url_key=url_key(normalized), host=SITE,
                            ).pk
                        )  # fmt: skip
                    connections.close_all()
                    started = time.monotonic()
                    pool.map(service_page, ids, chunksize=1)
                    service_round = time.monotonic() - started
                    service += service_round
                    line += f"  service-in-pool {service_round:6.1f} s"
                print(line, flush=True)

        peaks = memory.stop()
        latency = added_to_checked("round ")
        q_case = case_create(organization=org, actor=None, alias="queries", jurisdiction="KR")
        for ref in Reference.objects.filter(case=case).order_by("id"):
            Reference.objects.create(
                case=q_case, label=ref.label, source=ref.source, pdq_hex=ref.pdq_hex,
                pdq_quality=ref.pdq_quality, fingerprint=ref.fingerprint, hash_versions=ref.hash_versions,
            )  # fmt: skip
        q_mean, q_max = queries_per_url(q_case, [f"{base}/post/{2_000_000 + k}" for k in range(20)])
        matches = Match.objects.filter(reported_url__case__alias__startswith="round ").count()
        print(f"bare loop:  {bare:7.1f} s  ({args.urls / bare:5.1f} URLs/s, {bare_matches} matching images)")
        print(
            f"pipeline:   {pipeline:7.1f} s  ({args.urls / pipeline:5.1f} URLs/s, {matches} matches; queueing took {queued:.1f} s)"
        )
        if args.diagnose:
            print(f"service in a plain pool (no Celery): {service:7.1f} s  ratio {service / bare:.3f}")
        ratio = pipeline / bare
        print(f"ratio pipeline / bare: {ratio:.3f}  (target <= 1.25)")
        if latency:
            p50 = latency[len(latency) // 2]
            p95 = latency[min(len(latency) - 1, int(0.95 * len(latency)))]
            print(f"added -> checked: median {p50:.1f} s, p95 {p95:.1f} s over {len(latency)} URLs "
                  f"(each round's URLs are added at once, so this includes queueing)")  # fmt: skip
        children = sorted(v for pid, v in peaks.items() if pid != worker.pid)
        print(f"peak RSS: worker main {peaks.get(worker.pid, 0):.0f} MB; pool processes "
              + ", ".join(f"{v:.0f}" for v in children) + " MB")  # fmt: skip
        print(
            f"database queries per URL ({args.images} photos): mean {q_mean:.1f}, max {q_max} (20 URLs, 2 with a match)"
        )
        print("load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
        if matches != bare_matches:
            print(f"WARNING: {matches} matches in the pipeline, {bare_matches} in the bare loop")
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

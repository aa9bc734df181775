"""Pipeline throughput: N reported URLs through real Celery workers, with the web serving pages.

A local origin server (its own process, 127.0.0.2) serves N pages, each showing K photos from
photos-dev (one page in ten shows one of the case's two reference photos). For each worker count
in ``--workers`` (Celery prefork processes, ``--concurrency``), one after the other:

* the URLs are reported with ``reported_urls_add`` (one Celery task each, queued on commit) in
  batches of ``--batch``; a new batch is added whenever fewer than ``--batch`` URLs are still
  waiting, so the workers never run dry and the queue never holds more than two batches;
* meanwhile a real gunicorn (``-c app/gunicorn_conf.py``, ``--web-workers`` processes) serves a
  logged-in caseworker who requests the case page, a later page of its link list, the live
  link-rows fragment, the progress fragment, the results page and the case list, one request
  every 1/``--web-rate`` s; each page's latency is recorded. The same pages are timed again for
  ``--web-idle`` s after the run, with the workers idle and the case just as full: the baseline;
* the clock runs from the first URL added to the last URL in a final state in the database.

Printed per worker count: URLs/s; time from "added" to "checked" (median / p95 from the rows'
``created_at`` and ``last_scanned_at``: it includes waiting behind the backlog) and for single
URLs added to an idle pipeline; CPU-seconds per URL of the worker processes and of their
PostgreSQL backends (measured from the processes, so they do not depend on how busy the machine
is), of the web and of the harness itself (origin server + this process); peak RSS per process;
web latency during the run and idle; database queries per URL for 20 more URLs on the full case
and on an empty one (equal counts: no N+1). ``--bare-urls M`` also runs M URLs through a bare
loop (a pool of as many processes: download + decode + fingerprint + match, no queue, no
database) for the CPU the pipeline adds.

Workers and web processes keep their database connections (``DATABASE_CONN_MAX_AGE``, default
60 here) and name them (``application_name``), so their PostgreSQL backends can be measured.

    .venv/bin/python bench/pipeline_throughput.py --postgres postgres://postgres@127.0.0.1:5432/postgres \\
        --broker redis://127.0.0.1:6379/15 --urls 10000 --workers 1,2
    .venv/bin/python bench/pipeline_throughput.py --urls 200 --web-rate 0    # quick start: SQLite
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


# ---- measuring processes -----------------------------------------------------------------------


def _cpu(p) -> float:  # type: ignore[no-untyped-def]
    t = p.cpu_times()
    return float(t.user + t.system)


class ProcessWatch:
    """Polls process trees (given root pids; 0.5 s) and the PostgreSQL backends of the bench
    database (0.2 s): peak RSS per process and CPU-seconds used since ``mark()``.

    Backends are found by their process title (it names the database), their CPU read from /proc
    while they live. Workers keep their connections (DATABASE_CONN_MAX_AGE, app/celery.py), so
    each pool process has one long-lived backend and its CPU is measured whole. Before
    2026-12-05 Celery's Django fix-up closed the connection after every task: each task had a
    backend of its own living ~0.1 s, most of whose CPU (start-up included) this 0.2 s sampling
    missed, so the database figures of earlier runs are lower bounds. The web's backends are
    told apart by their application_name."""

    def __init__(self, roots: dict[str, int], db_name: str | None) -> None:
        import threading

        self.roots = roots
        self.db_name = db_name
        self.peak: dict[str, dict[int, float]] = {name: {} for name in roots}
        self._cpu_now: dict[tuple[str, int], float] = {}
        self._cpu_mark: dict[tuple[str, int], float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True)]
        if db_name:
            self._threads.append(threading.Thread(target=self._run_db, daemon=True))
        for t in self._threads:
            t.start()

    def sample(self) -> None:
        import psutil

        for name, pid in self.roots.items():
            try:
                root = psutil.Process(pid)
                # The bench process's own children are the servers and workers, watched apart.
                procs = [root] if name.startswith("harness") else [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for p in procs:
                try:
                    rss = p.memory_info().rss / 1e6
                    cpu = _cpu(p)
                except psutil.Error:
                    continue
                self.peak[name][p.pid] = max(self.peak[name].get(p.pid, 0.0), rss)
                with self._lock:
                    self._cpu_now[(name, p.pid)] = cpu

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.5)

    def _run_db(self) -> None:
        import psutil
        import psycopg

        url = os.environ["DATABASE_URL"].split("?", 1)[0]
        with psycopg.connect(url, autocommit=True) as conn:
            own = conn.info.backend_pid
            postmaster = psutil.Process(own).parent()
            assert postmaster is not None
            web: set[int] = set()
            tick = 0
            while not self._stop.is_set():
                if tick % 10 == 0:
                    web = {
                        pid
                        for (pid,) in conn.execute(
                            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = 'jium-web'",
                            (self.db_name,),
                        ).fetchall()
                    }
                tick += 1
                for p in postmaster.children():
                    try:
                        if p.pid == own or f" {self.db_name} " not in " ".join(p.cmdline()) + " ":
                            continue
                        cpu = _cpu(p)
                    except psutil.Error:
                        continue
                    with self._lock:
                        self._cpu_now[("db:web" if p.pid in web else "db:other", p.pid)] = cpu
                self._stop.wait(0.2)

    def backends_seen(self) -> int:
        with self._lock:
            return sum(1 for key in self._cpu_now if key[0] == "db:other")

    def mark(self) -> None:
        self.sample()
        time.sleep(0.2)
        with self._lock:
            self._cpu_mark = dict(self._cpu_now)

    def cpu_since_mark(self) -> dict[str, float]:
        """CPU-seconds per group (a root's name, "db:web" or "db:other") since mark()."""
        self.sample()
        time.sleep(0.2)
        out: dict[str, float] = {}
        with self._lock:
            for key, cpu in self._cpu_now.items():
                out[key[0]] = out.get(key[0], 0.0) + cpu - self._cpu_mark.get(key, 0.0)
        return out

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)


class WebLoad:
    """A logged-in caseworker's browser: one page request every ``interval`` seconds, in turn
    through ``pages``; latency of each (s), and any non-200 answer."""

    def __init__(self, base: str, cookie: tuple[str, str], pages: list[str], interval: float) -> None:
        import threading

        import httpx

        self.client = httpx.Client(base_url=base, cookies={cookie[0]: cookie[1]}, timeout=60)
        self.pages = pages
        self.interval = interval
        self.latency: dict[str, list[float]] = {p: [] for p in pages}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        nxt = time.monotonic()
        i = 0
        while not self._stop.is_set():
            page = self.pages[i % len(self.pages)]
            i += 1
            started = time.monotonic()
            try:
                r = self.client.get(page)
                if r.status_code != 200:
                    self.errors.append(f"{page}: {r.status_code}")
            except Exception as exc:
                self.errors.append(f"{page}: {type(exc).__name__}")
            else:
                self.latency[page].append(time.monotonic() - started)
            nxt = max(nxt + self.interval, time.monotonic())
            self._stop.wait(max(0.0, nxt - time.monotonic()))

    def start(self) -> WebLoad:
        self._thread.start()
        return self

    def stop(self) -> dict[str, list[float]]:
        self._stop.set()
        self._thread.join(timeout=120)
        return self.latency

    def all(self) -> list[float]:
        return sorted(x for v in self.latency.values() for x in v)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def added_to_checked(case) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds from "added" (row created) to "checked" (last scan) of every URL of the case."""
    from app.cases.models import ReportedUrl

    rows = ReportedUrl.objects.filter(case=case).values_list("created_at", "last_scanned_at")
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


FINAL = ("matched", "no_match", "failed")


def done_count(case) -> int:  # type: ignore[no-untyped-def]
    from app.cases.models import ReportedUrl

    return ReportedUrl.objects.filter(case=case, state__in=FINAL).count()


def wait_final(case, count: int, timeout: float, poll: float = 0.05) -> float:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done_count(case) >= count:
            return time.monotonic()
        time.sleep(poll)
    raise SystemExit(f"pipeline did not finish within {timeout:.0f} s")


def copy_references(source, target) -> None:  # type: ignore[no-untyped-def]
    from app.cases.models import Reference

    for ref in Reference.objects.filter(case=source).order_by("id"):
        Reference.objects.create(
            case=target, label=ref.label, source=ref.source, pdq_hex=ref.pdq_hex,
            pdq_quality=ref.pdq_quality, fingerprint=ref.fingerprint, pdq_hashes=ref.pdq_hashes,
            hash_versions=ref.hash_versions,
        )  # fmt: skip


def start_web(port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ.copy()
    env["DATABASE_URL"] = app_database_url("jium-web")
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "app/gunicorn_conf.py", "app.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "120"],
        cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def app_database_url(name: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return url
    return url.split("?", 1)[0] + f"?application_name={name}"


def start_worker(queue: str, concurrency: int, log: Path, prefetch: int | None) -> subprocess.Popen[bytes]:
    env = os.environ.copy()
    if env.get("DATABASE_URL"):
        env["DATABASE_URL"] = app_database_url("jium-worker")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app", "worker", "-Q", queue, "-n", f"{queue}-{concurrency}@%h",
         "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]
        + (["--prefetch-multiplier", str(prefetch)] if prefetch else []),
        cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--urls", type=int, default=1000, help="URLs per worker count")
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--workers", default="1,2", help="worker process counts to run, e.g. 1,2")
    parser.add_argument("--batch", type=int, default=250, help="URLs added at once")
    parser.add_argument("--postgres", help="server URL; a throwaway database is created on it")
    parser.add_argument("--broker", help="Celery broker URL (default: the quick-start SQLite broker)")
    parser.add_argument("--web-rate", type=float, default=2.0, help="page requests per second (0: no web)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--web-idle", type=float, default=20.0, help="seconds of idle-baseline page timing")
    parser.add_argument(
        "--bare-urls", type=int, default=0, help="URLs through the bare loop per worker count"
    )
    parser.add_argument("--single", type=int, default=5, help="single URLs timed on the idle pipeline")
    parser.add_argument("--prefetch-multiplier", type=int, help="override the worker's prefetch multiplier")
    parser.add_argument(
        "--time-limit", type=float, default=0, help="seconds per worker count; then report what was checked"
    )
    parser.add_argument("--conn-max-age", default="60", help="DATABASE_CONN_MAX_AGE for workers and web")
    args = parser.parse_args()
    worker_counts = [int(x) for x in args.workers.split(",") if x.strip()]

    # faiss's OpenMP threads make every match ~10x slower on small machines (and fight the
    # worker pool for cores); everything runs single-threaded unless told otherwise.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    data_dir = Path(tempfile.mkdtemp(prefix="jium-bench-"))
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "app.settings",
            "JIUM_DATA_DIR": str(data_dir),
            "CELERY_QUEUE": queue,
            "FETCH_ALLOWED_PRIVATE_NETWORKS": f"{SITE}/32",
            "DATABASE_CONN_MAX_AGE": args.conn_max_age,
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
        # secrets, and the bench process, its workers and its web must share them.
        from cryptography.fernet import Fernet

        os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex * 2)
        os.environ.setdefault("JIUM_ENCRYPTION_KEYS", Fernet.generate_key().decode())

    import django

    django.setup()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per web request otherwise
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.urls import reverse

    from app.accounts.models import Role
    from app.accounts.services import member_create, organization_create
    from app.cases.models import Reference
    from app.cases.services import case_create, reference_add_image, reported_urls_add
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
    web: subprocess.Popen[bytes] | None = None
    results: list[dict[str, object]] = []
    try:
        org = organization_create(name="Bench NGO")
        org.require_two_factor = False
        org.save()
        owner = member_create(
            organization=org,
            username="bench",
            password="bench-password-1234",  # noqa: S106
            role=Role.ADMIN,
        )
        ref_case = case_create(organization=org, actor=owner.user, alias="references", jurisdiction="KR")
        for name in names[:2]:
            reference_add_image(case=ref_case, actor=owner.user, data=photo_bytes(name), filename=name)
        blobs = [
            bytes(b)
            for b in Reference.objects.filter(case=ref_case)
            .order_by("id")
            .values_list("fingerprint", flat=True)
        ]
        client = Client()
        client.force_login(owner.user)
        cookie = (settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
        connections.close_all()  # forked processes must not share the connection

        web_base = ""
        roots: dict[str, int] = {"harness: origin server": server.pid or 0, "harness: bench": os.getpid()}
        if args.web_rate > 0:
            import socket

            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            web = start_web(port, args.web_workers, data_dir / "web.log")
            web_base = f"http://127.0.0.1:{port}"
            import httpx

            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{web_base}/login/", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or web.poll() is not None:
                    raise SystemExit("gunicorn did not start:\n" + (data_dir / "web.log").read_text()[-3000:])
                time.sleep(0.5)
            roots["web"] = web.pid

        print(f"{args.urls} URLs x {args.images} images per run, worker processes {worker_counts}, batches of {args.batch}; "
              f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, broker {settings.CELERY_BROKER_URL.split(':', 1)[0]}, "
              f"web {f'{args.web_workers} gunicorn workers, {args.web_rate:.1f} pages/s' if web else 'off'}, "
              f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, CONN_MAX_AGE={args.conn_max_age}; "
              f"{os.cpu_count()} CPUs; load {load()}", flush=True)  # fmt: skip

        # Production PostgreSQL keeps its planner statistics fresh (autovacuum); a development
        # server may have it off, and then the freshly filled tables keep "empty" statistics and
        # some pages get quadratic plans. The bench then analyses after each batch instead.
        analyze = False
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW autovacuum")
                analyze = cursor.fetchone()[0] != "on"
            if analyze:
                print("autovacuum is off on this server: ANALYZE after each batch stands in for it")
        for run, n in enumerate(worker_counts):
            offset = (run + 1) * 10_000_000  # distinct URLs per run (a multiple of REF_EVERY)
            case = case_create(organization=org, actor=None, alias=f"run {n}", jurisdiction="KR")
            warm_case = case_create(organization=org, actor=None, alias=f"warm-up {n}", jurisdiction="KR")
            copy_references(ref_case, case)
            copy_references(ref_case, warm_case)
            worker = start_worker(queue, n, data_dir / "worker.log", args.prefetch_multiplier)
            watch = ProcessWatch({**roots, "worker": worker.pid}, db_name)
            warm = [f"warm-{offset // 1000 + j}" for j in range(4 * n)]
            reported_urls_add(case=warm_case, actor=None, urls=[f"{base}/post/{w}" for w in warm])
            wait_final(warm_case, len(warm), timeout=600)
            pages = []
            if web_base:
                pages = [
                    reverse("case_detail", args=[case.pk]),
                    reverse("case_url_rows", args=[case.pk]),
                    reverse("case_progress", args=[case.pk]),
                    reverse("case_detail", args=[case.pk]) + f"?page={max(1, args.urls // 200)}",
                    reverse("case_results", args=[case.pk]),
                    reverse("case_list"),
                ]
                WebLoad(web_base, cookie, pages, 0.0).start().stop()  # warm the web processes
                warmer = WebLoad(web_base, cookie, pages, 0.05).start()
                time.sleep(2)
                warmer.stop()

            load_before = load()
            watch.mark()
            webload = WebLoad(web_base, cookie, pages, 1 / args.web_rate).start() if web_base else None
            keys = [f"{base}/post/{offset + i}" for i in range(args.urls)]
            added = done = 0
            started = time.monotonic()
            next_report = started + 60
            queueing = 0.0
            stopped_early = False
            while done < args.urls:
                if args.time_limit and time.monotonic() - started > args.time_limit:
                    stopped_early = True
                    break
                if added < args.urls and added - done < args.batch:
                    t = time.monotonic()
                    reported_urls_add(case=case, actor=None, urls=keys[added : added + args.batch])
                    queueing += time.monotonic() - t
                    added = min(args.urls, added + args.batch)
                    if analyze:
                        with connection.cursor() as cursor:
                            cursor.execute("ANALYZE")
                time.sleep(0.5)
                done = done_count(case)
                if time.monotonic() > next_report:
                    el = time.monotonic() - started
                    print(
                        f"  [{n} worker(s)] {el:6.0f} s: {done}/{args.urls} checked ({done / el:.2f} URLs/s), load {load()}",
                        flush=True,
                    )
                    next_report += 60
            wall = time.monotonic() - started
            web_lat = webload.stop() if webload else {}
            web_errors = webload.errors if webload else []
            cpu = watch.cpu_since_mark()
            load_after = load()
            n_done = done
            if stopped_early:
                # Out of time: report on the URLs checked so far; drop the rest of the queue and
                # let the URLs in hand finish, so that what follows runs on idle workers.
                print(f"  time limit: stopped after {n_done} of {args.urls} URLs", flush=True)
                from app.celery import app as celery_app

                with celery_app.connection_for_write() as conn:
                    conn.default_channel.queue_purge(queue)
                from app.cases.models import ReportedUrl

                until = time.monotonic() + 120
                while (
                    time.monotonic() < until
                    and ReportedUrl.objects.filter(case=case, state="fetching").exists()
                ):
                    time.sleep(0.5)

            latency = added_to_checked(case)
            matches = Match.objects.filter(reported_url__case=case).count()
            # Web baseline: the same pages with the workers idle and the case just as full.
            idle_lat: list[float] = []
            if web_base and args.web_idle > 0:
                idle = WebLoad(web_base, cookie, pages, 1 / args.web_rate).start()
                time.sleep(args.web_idle)
                idle.stop()
                idle_lat = idle.all()
            # Single URLs on the idle pipeline: the time a newly reported URL takes on its own.
            single_case = case_create(organization=org, actor=None, alias=f"single {n}", jurisdiction="KR")
            copy_references(ref_case, single_case)
            for j in range(args.single):
                reported_urls_add(
                    case=single_case, actor=None, urls=[f"{base}/post/{offset + 9_000_000 + j}"]
                )
                wait_final(single_case, j + 1, timeout=300, poll=0.02)
            single = added_to_checked(single_case)
            # Bare loop: the same work without queue or database, as many processes.
            bare_rate = bare_cpu = float("nan")
            if args.bare_urls:
                connections.close_all()
                bare_keys = [str(offset + 8_000_000 + i) for i in range(args.bare_urls)]
                with ctx.Pool(n, initializer=_bare_init, initargs=(blobs, base, args.images)) as pool:
                    pool.map(bare_page, warm, chunksize=1)
                    import psutil

                    kids = psutil.Process().children()
                    before = {p.pid: _cpu(p) for p in kids}
                    t = time.monotonic()
                    pool.map(bare_page, bare_keys, chunksize=1)
                    bare_wall = time.monotonic() - t
                    bare_cpu = sum(_cpu(p) - before.get(p.pid, 0.0) for p in kids if p.is_running())
                bare_rate = args.bare_urls / bare_wall
            q_full = queries_per_url(case, [f"{base}/post/{offset + 7_000_000 + k}" for k in range(20)])
            q_case = case_create(organization=org, actor=None, alias=f"queries {n}", jurisdiction="KR")
            copy_references(ref_case, q_case)
            q_empty = queries_per_url(q_case, [f"{base}/post/{offset + 7_100_000 + k}" for k in range(20)])
            watch.stop()
            stop_process(worker)
            worker = None
            connections.close_all()

            peaks = watch.peak
            worker_peaks = sorted(peaks["worker"].items())
            main_pid = min(pid for pid, _ in worker_peaks) if worker_peaks else 0
            res: dict[str, object] = {
                "workers": n, "urls": n_done, "wall": wall, "rate": n_done / wall, "backends": watch.backends_seen(),
                "p50": pct(latency, 0.5), "p95": pct(latency, 0.95), "single": pct(single, 0.5),
                "cpu_worker": cpu.get("worker", 0.0) / max(n_done, 1),
                "cpu_db_worker": cpu.get("db:other", 0.0) / max(n_done, 1),
                "cpu_web": cpu.get("web", 0.0), "cpu_db_web": cpu.get("db:web", 0.0),
                "cpu_origin": cpu.get("harness: origin server", 0.0) / max(n_done, 1), "cpu_bench": cpu.get("harness: bench", 0.0) / max(n_done, 1),
                "rss_main": dict(worker_peaks).get(main_pid, 0.0),
                "rss_pool": [v for pid, v in worker_peaks if pid != main_pid],
                "rss_web": sorted(peaks.get("web", {}).values()),
                "web_n": sum(len(v) for v in web_lat.values()),
                "web_p50": pct([x for v in web_lat.values() for x in v], 0.5),
                "web_p95": pct([x for v in web_lat.values() for x in v], 0.95),
                "web_idle_p50": pct(idle_lat, 0.5), "web_idle_p95": pct(idle_lat, 0.95),
                "web_pages": {p: (pct(v, 0.5), pct(v, 0.95)) for p, v in web_lat.items()},
                "web_errors": web_errors,
                "q_full": q_full, "q_empty": q_empty, "matches": matches,
                "bare_rate": bare_rate, "bare_cpu": bare_cpu / args.bare_urls if args.bare_urls else float("nan"),
                "load_before": load_before, "load_after": load_after, "queueing": queueing,
            }  # fmt: skip
            results.append(res)
            print_result(res, args.images)

        if len(results) > 1:
            one = results[0]
            print("\nsummary:")
            for r in results:
                print(f"  {r['workers']} worker process(es): {r['rate']:.2f} URLs/s "
                      f"({float(r['rate']) / float(one['rate']):.2f}x the {one['workers']}-process run), "
                      f"CPU {float(r['cpu_worker']) + float(r['cpu_db_worker']):.3f} s per URL (workers + their DB backends), "
                      f"load {r['load_before']} -> {r['load_after']}")  # fmt: skip
        return 0
    finally:
        stop_process(worker)
        stop_process(web)
        server.terminate()
        connections.close_all()
        if db_name and args.postgres:
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


def print_result(r: dict[str, object], images: int) -> None:
    ms = 1000.0
    pool = ", ".join(f"{v:.0f}" for v in r["rss_pool"])  # type: ignore[attr-defined]
    web = ", ".join(f"{v:.0f}" for v in r["rss_web"])  # type: ignore[attr-defined]
    q_full, q_empty = r["q_full"], r["q_empty"]
    print(f"\n== {r['workers']} worker process(es), {r['urls']} URLs x {images} photos ==")
    print(
        f"  URLs/s:            {r['rate']:.2f}  ({r['wall']:.0f} s wall, {r['matches']} matches; adding took {r['queueing']:.1f} s)"
    )
    print(
        f"  added -> checked:  median {r['p50']:.1f} s, p95 {r['p95']:.1f} s (with the backlog); a single URL on the idle pipeline {r['single']:.2f} s"
    )
    print(
        f"  CPU per URL:       workers {r['cpu_worker']:.3f} s + PostgreSQL backends {r['cpu_db_worker']:.3f} s (workers' connections and adding the URLs); "
        f"harness: origin server {r['cpu_origin']:.3f} s, bench process {r['cpu_bench']:.3f} s ({r['backends']} database backends seen)"
    )
    if r["web_n"]:
        print(
            f"  web:               {r['web_n']} pages, median {float(r['web_p50']) * ms:.0f} ms, p95 {float(r['web_p95']) * ms:.0f} ms during the run; "
            f"idle, same case: median {float(r['web_idle_p50']) * ms:.0f} ms, p95 {float(r['web_idle_p95']) * ms:.0f} ms; "
            f"web CPU {r['cpu_web']:.1f} s + its DB {r['cpu_db_web']:.1f} s; errors {len(r['web_errors'])}"
        )  # type: ignore[arg-type]
        for page, (p50, p95) in r["web_pages"].items():  # type: ignore[attr-defined]
            print(f"      {page:40s} median {p50 * ms:6.0f} ms  p95 {p95 * ms:6.0f} ms")
    print(f"  peak RSS:          worker main {r['rss_main']:.0f} MB; pool processes {pool} MB; web {web} MB")
    print(
        f"  DB queries per URL: {q_full[0]:.1f} mean / {q_full[1]} max on the full case, "  # type: ignore[index]
        f"{q_empty[0]:.1f} / {q_empty[1]} on an empty one (20 URLs each, 2 with a match)"
    )  # type: ignore[index]
    if r["bare_rate"] == r["bare_rate"]:
        print(
            f"  bare loop:         {r['bare_rate']:.2f} URLs/s, {r['bare_cpu']:.3f} CPU-s per URL (no queue, no database)"
        )
    print(f"  load average:      {r['load_before']} before, {r['load_after']} after", flush=True)
    for e in r["web_errors"][:5]:  # type: ignore[index]
        print(f"  web error: {e}")


if __name__ == "__main__":
    sys.exit(main())

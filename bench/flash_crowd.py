#!/usr/bin/env python
"""Flash crowd: 5,000 people register for one 500-seat session at the same moment.

A benchmark, not a test (see bench/README.md). One run:

1. drops and recreates the PostgreSQL database ``podium_bench``, migrates it and creates
   a published event with open registration and its sessions;
2. starts ``gunicorn config.wsgi:application`` (3 sync workers, DEBUG off, no throttling)
   on a free port of 127.0.0.1;
3. warms it up, then sends 5,000 registration POSTs with distinct emails from 64
   concurrent clients (4 processes x 16 threads) and times each one;
4. checks the outcome in the database: 500 confirmed, 4,500 waitlisted, positions 1..4500;
5. measures the ceiling: pgbench, 64 clients, running the very SQL statements that one
   registration sends (captured from Django in-process), 10 % seat path, 90 % waiting list,
   prepared as Podium prepares them (``-M prepared``; ``simple`` with
   ``DATABASE_PREPARED_STATEMENTS=false``), and the fixed yardstick beside it;
6. prints registrations/s, p50/p99 latency, the ceiling and their ratio against targets.

Everything is stopped and the database dropped at the end, also on failure or Ctrl-C.
Exit status: 0 if every check passed, 1 if one failed (2 with ``--strict`` and a missed
target), 3 if the benchmark itself could not run.

Run from the project root: ``.venv/bin/python bench/flash_crowd.py`` (``make bench-registration``).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import multiprocessing as mp
import os
import queue
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENT_SLUG = "flash-crowd"
HOST = "127.0.0.1"
SECRET_KEY = "bench-only-secret-key-not-for-production-use-0123456789abcdefgh"

# Targets (issue 11): the web tier keeps up with the database. The ratio that counts
# is to the fixed yardstick (a minimal hot-row registration), which does not move when
# Podium's own SQL grows.
TARGET_RATIO = 0.35
TARGET_P99_MS = 500.0
TARGET_CPU_MS = 5.0  # gunicorn CPU per registration
# Other work on the machine beyond this many cores disturbs the numbers.
IDLE_CORES = 0.2

# Ceiling sessions: one that always has a seat, one that is full with a waiting list.
CEILING_SEAT_CAPACITY = 1_000_000
CEILING_WAIT_CAPACITY = 500


class BenchError(Exception):
    """The benchmark could not run (not a failed check)."""


class Interrupted(BaseException):
    pass


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--requests", type=int, default=5000, help="registrations in the measured run"
    )
    p.add_argument("--capacity", type=int, default=500, help="capacity of the session")
    p.add_argument(
        "--clients",
        type=int,
        default=64,
        help="concurrent HTTP clients (and pgbench clients)",
    )
    p.add_argument("--processes", type=int, default=4, help="load generator processes")
    p.add_argument(
        "--warmup",
        type=int,
        default=256,
        help="warm-up requests (another session, not counted)",
    )
    p.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    p.add_argument(
        "--worker-class",
        default="sync",
        choices=["sync", "gthread"],
        help="gunicorn worker class",
    )
    p.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    p.add_argument(
        "--app",
        default="config.wsgi:application",
        help="WSGI application to serve and to capture the SQL from (experiments: an importable "
        "module on PYTHONPATH that patches the project)",
    )
    p.add_argument(
        "--conn-max-age",
        default=None,
        help="DATABASE_CONN_MAX_AGE for the server (default: the application's default)",
    )
    p.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://root@127.0.0.1:5432"),
        help="PostgreSQL server, without a database name (all traffic stays on 127.0.0.1)",
    )
    p.add_argument("--db", default="podium_bench", help="database to drop and recreate")
    p.add_argument(
        "--broker-url",
        default="redis://127.0.0.1:6379/13",
        help="CELERY_BROKER_URL for the server (a registration asks for a dispatcher run after "
        "commit); the messages this run publishes are removed again at the end",
    )
    p.add_argument(
        "--pgbench-runs",
        type=int,
        default=3,
        help="pgbench repetitions; the median counts",
    )
    p.add_argument(
        "--pgbench-seconds",
        type=int,
        default=0,
        help="run pgbench for this long (-T) instead of the HTTP run's number of registrations (-t)",
    )
    p.add_argument(
        "--request-timeout", type=float, default=30.0, help="seconds per HTTP request"
    )
    p.add_argument(
        "--wait-idle",
        type=int,
        default=120,
        help="before each measurement, wait up to this many seconds for other work on the machine to pause",
    )
    p.add_argument(
        "--timeout", type=int, default=1800, help="seconds for the whole benchmark"
    )
    p.add_argument(
        "--strict", action="store_true", help="exit 2 when a target is missed"
    )
    p.add_argument(
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    p.add_argument(
        "--keep-files",
        action="store_true",
        help="keep the pgbench scripts and gunicorn log",
    )
    p.add_argument(
        "--show-sql", action="store_true", help="print the pgbench scripts in full"
    )
    p.add_argument(
        "--growth",
        action="store_true",
        help="instead of the flash crowd: for each of --growth-sizes registrations over "
        "--sessions sessions, time registrations, the console dashboard and attendee "
        "list, their query counts and the memory they take; EXPLAIN at the largest size",
    )
    p.add_argument(
        "--growth-sizes",
        default="1000,10000,100000",
        help="registrations already in the event at each step of --growth",
    )
    p.add_argument(
        "--registrations",
        type=int,
        default=0,
        help="one size only (the same as --growth --growth-sizes N)",
    )
    p.add_argument(
        "--sessions", type=int, default=100, help="sessions of the --growth event"
    )
    p.add_argument("--helper", help=argparse.SUPPRESS)
    p.add_argument("--helper-arg", action="append", default=[], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for option, url in (("--pg-url", args.pg_url), ("--broker-url", args.broker_url)):
        host = re.sub(r"^[a-z]+://(?:[^@/]*@)?", "", url).split(":")[0].split("/")[0]
        if host not in ("127.0.0.1", "localhost", ""):
            p.error(f"{option} must point at 127.0.0.1")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.db):
        p.error("--db must be a plain lower-case identifier")
    if args.clients < args.processes or args.requests < 1:
        p.error("need at least one client per process and one request")
    if args.registrations:
        args.growth = True
        args.growth_sizes = str(args.registrations)
    try:
        args.sizes = [int(x) for x in args.growth_sizes.split(",") if x.strip()]
    except ValueError:
        p.error("--growth-sizes: comma-separated numbers")
    if args.growth and (not args.sizes or min(args.sizes) < 1 or args.sessions < 1):
        p.error("--growth needs sizes of at least 1 and at least one session")
    return args


def database_url(args: argparse.Namespace, db: str | None = None) -> str:
    return f"{args.pg_url.rstrip('/')}/{db or args.db}"


def django_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(args),
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        REGISTRATION_RATE_LIMIT="",
        CELERY_BROKER_URL=args.broker_url,
        PYTHONUNBUFFERED="1",
    )
    if args.conn_max_age is not None:
        env["DATABASE_CONN_MAX_AGE"] = str(args.conn_max_age)
    return env


def pg_conninfo(args: argparse.Namespace) -> dict[str, str]:
    """libpq pieces of --pg-url, for pgbench."""
    m = re.match(
        r"^[a-z]+://(?:(?P<user>[^@:/]*)(?::[^@/]*)?@)?(?P<host>[^:/]+)(?::(?P<port>\d+))?",
        args.pg_url,
    )
    if not m:
        raise BenchError(f"cannot read {args.pg_url}")
    return {
        "host": m["host"],
        "port": m["port"] or "5432",
        "user": m["user"] or os.environ.get("USER", "postgres"),
    }


# --------------------------------------------------------------------------------------
# Database administration (psycopg from the venv; the orchestrator never imports Django)
# --------------------------------------------------------------------------------------


def pg_execute(
    args: argparse.Namespace, sql: str, params: Any = None, db: str | None = None
) -> list[tuple]:
    import psycopg

    with psycopg.connect(
        database_url(args, db), autocommit=True, connect_timeout=10
    ) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def run_lock(args: argparse.Namespace) -> Any:
    """A session advisory lock, so that two runs never drop each other's database."""
    import psycopg

    conn = psycopg.connect(
        database_url(args, "postgres"), autocommit=True, connect_timeout=10
    )
    ((locked,),) = conn.execute(
        "SELECT pg_try_advisory_lock(8710, hashtext(%s))", (f"flash_crowd:{args.db}",)
    ).fetchall()
    if not locked:
        conn.close()
        raise BenchError(f"another flash_crowd run is using the database {args.db}")
    return conn


def database_recreate(args: argparse.Namespace) -> None:
    pg_execute(args, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)', db="postgres")
    pg_execute(args, f'CREATE DATABASE "{args.db}"', db="postgres")


def database_drop(args: argparse.Namespace) -> None:
    pg_execute(args, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)', db="postgres")


# Processes of ours that may publish Celery messages (gunicorn workers, helpers).
PUBLISHERS: set[int] = set()


def run_helper(
    args: argparse.Namespace, name: str, *helper_args: str, timeout: int = 300
) -> dict[str, Any]:
    """Runs a Django-side step of this script in a subprocess; it prints one JSON line."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--helper", name]
    for a in helper_args:
        cmd += ["--helper-arg", a]
    with subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=django_env(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        PUBLISHERS.add(proc.pid)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    if proc.returncode != 0:
        raise BenchError(f"helper {name} failed:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


def broker_cleanup(args: argparse.Namespace) -> int:
    """Removes the Celery messages our processes published (by their origin), nothing else."""
    if not args.broker_url.startswith("redis://") or not PUBLISHERS:
        return 0
    import redis

    origins = {f"gen{pid}@{socket.gethostname()}" for pid in PUBLISHERS}
    client = redis.Redis.from_url(args.broker_url, socket_timeout=10)
    removed = 0
    for key in client.scan_iter(count=1000):
        if client.type(key) != b"list":
            continue
        for message in client.lrange(key, 0, -1):
            try:
                origin = json.loads(message)["headers"]["origin"]
            except (ValueError, KeyError, TypeError):
                continue
            if origin in origins:
                removed += client.lrem(key, 1, message)
    return removed


# --------------------------------------------------------------------------------------
# Django-side helpers (run in a subprocess with the bench database's settings)
# --------------------------------------------------------------------------------------


def helper_main(name: str, helper_args: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django

    django.setup()
    result = {
        "setup": helper_setup,
        "capture": helper_capture,
        "growth": helper_growth,
    }[name](*helper_args)
    print(json.dumps(result))


def helper_setup(capacity: str) -> dict[str, Any]:
    """A published event with open registration and its sessions, starting in two weeks."""
    import datetime as dt

    from django.utils import timezone

    from events.models import Event, Session

    now = timezone.now()
    starts = now + dt.timedelta(days=14)
    event = Event.objects.create(
        slug=EVENT_SLUG,
        title="Flash crowd week",
        status=Event.Status.PUBLISHED,
        starts_on=starts.date(),
        ends_on=starts.date() + dt.timedelta(days=2),
        registration_opens_at=now - dt.timedelta(hours=1),
        registration_closes_at=now + dt.timedelta(days=13),
    )

    def session(title: str, cap: int, offset_h: int) -> Session:
        at = starts + dt.timedelta(hours=offset_h)
        return Session.objects.create(
            event=event,
            title=title,
            kind=Session.Kind.CEREMONY,
            starts_at=at,
            ends_at=at + dt.timedelta(hours=2),
            capacity=cap,
            waitlist_enabled=True,
        )

    bench = session("Award ceremony (flash crowd)", int(capacity), 0)
    warmup = session("Warm-up talk", 10, 3)
    seat = session("Ceiling: seat path", CEILING_SEAT_CAPACITY, 6)
    wait = session("Ceiling: waiting-list path", CEILING_WAIT_CAPACITY, 9)
    Session.objects.filter(pk=wait.pk).update(seats_taken=CEILING_WAIT_CAPACITY)
    return {
        "event": event.slug,
        "session": bench.pk,
        "warmup": warmup.pk,
        "seat": seat.pk,
        "wait": wait.pk,
    }


GROWTH_SLUG = "growth"
GROWTH_REGISTER = 100  # registrations timed through the WSGI application per size
GROWTH_REPEAT = 5  # GETs of each console page per size; the median counts
# The table also holds this many times as many registrations of another event: an
# event is rarely alone, and a plan that reads the whole table shows up.
GROWTH_OTHERS = 4


def helper_growth(size: str, sessions: str, explain: str) -> dict[str, Any]:
    """One size of ``--growth``: ``size`` registrations over ``sessions`` sessions of
    the growth event (inserted in one statement from a template row), then times
    registrations and the console's dashboard and attendee list, counts their
    queries, measures memory and (``explain`` = "1") EXPLAINs their queries."""
    import datetime as dt
    import importlib
    import tracemalloc

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from events.models import Attendee, Event, Registration, Session

    n, m = int(size), int(sessions)
    now = timezone.now()
    starts = now + dt.timedelta(days=14)
    event = Event.objects.filter(slug=GROWTH_SLUG).first()
    if event is None:
        event = Event.objects.create(
            slug=GROWTH_SLUG,
            title="Growth week",
            status=Event.Status.PUBLISHED,
            starts_on=starts.date(),
            ends_on=starts.date() + dt.timedelta(days=5),
            registration_opens_at=now - dt.timedelta(days=40),
            registration_closes_at=now + dt.timedelta(days=13),
        )
        Session.objects.bulk_create(
            Session(
                event=event,
                title=f"Session {k + 1}",
                kind=Session.Kind.CEREMONY,
                starts_at=starts + dt.timedelta(hours=k),
                ends_at=starts + dt.timedelta(hours=k + 1),
                capacity=1_000_000,
                waitlist_enabled=True,
            )
            for k in range(m)
        )
    session_ids = list(
        Session.objects.filter(event=event).order_by("pk").values_list("pk", flat=True)
    )
    other = Event.objects.filter(slug=f"{GROWTH_SLUG}-other").first()
    if other is None:
        other = Event.objects.create(
            slug=f"{GROWTH_SLUG}-other",
            title="Another event",
            status=Event.Status.PUBLISHED,
            starts_on=starts.date(),
            ends_on=starts.date(),
            registration_opens_at=now - dt.timedelta(days=40),
            registration_closes_at=now + dt.timedelta(days=13),
        )
        Session.objects.bulk_create(
            Session(
                event=other,
                title=f"Other {k + 1}",
                kind=Session.Kind.CEREMONY,
                starts_at=starts + dt.timedelta(hours=k),
                ends_at=starts + dt.timedelta(hours=k + 1),
                capacity=None,
            )
            for k in range(10)
        )
    other_ids = list(
        Session.objects.filter(event=other).order_by("pk").values_list("pk", flat=True)
    )
    user, _ = get_user_model().objects.get_or_create(
        username="growth@example.org", defaults={"email": "growth@example.org"}
    )
    event.organisers.add(user)

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE events_registration, events_attendee, notifications_notification CASCADE"
        )
    attendee = Attendee.objects.create(email="template@example.org", full_name="T")
    template = Registration.objects.create(
        session_id=session_ids[0],
        attendee=attendee,
        full_name="Template",
        email="template@example.org",
        status=Registration.Status.CONFIRMED,
    )
    # Every other column as the template has it; these vary by row number g.
    session_of_row = (
        f"CASE WHEN g < %s THEN (ARRAY{session_ids}::bigint[])"
        f"[1 + mod(g, {len(session_ids)})] ELSE (ARRAY{other_ids}::bigint[])[1 + mod(g, 10)] END"
    )
    overrides = {
        "session_id": session_of_row,
        # The session's event (the row's session, found again by its id).
        "event_id": f"(SELECT s.event_id FROM events_session s WHERE s.id = ({session_of_row}))",  # noqa: S608 - our own tables
        "code": "'G' || g",
        "email": "'growth-' || g || '@example.org'",
        "full_name": "'Person ' || g",
        "status": "CASE mod(g, 10) WHEN 0 THEN 'cancelled' WHEN 1 THEN 'waitlisted' "
        "ELSE 'confirmed' END",
        "waitlist_number": "CASE mod(g, 10) WHEN 1 THEN g END",
        "cancelled_at": "CASE mod(g, 10) WHEN 0 THEN now() END",
        "checked_in_at": "CASE WHEN mod(g, 10) IN (2, 3) THEN now() END",
        "created_at": "now() - mod(g, 30) * interval '1 day'",
    }
    columns = [f.column for f in Registration._meta.concrete_fields if f.column != "id"]
    select = ", ".join(overrides.get(c, f't."{c}"') for c in columns)
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO events_registration ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)}) "  # noqa: S608 - our own columns
            f"SELECT {select} FROM events_registration t, generate_series(1, %s) g "
            "WHERE t.id = %s",
            [
                n,
                n,
                n * (1 + GROWTH_OTHERS) - 1,
                template.pk,
            ],  # g < n for the session and for its event
        )
        # As autovacuum leaves a table that has settled: statistics and visibility map.
        cursor.execute(
            "VACUUM ANALYZE events_registration, events_session, events_attendee"
        )
    load_s = time.perf_counter() - t0

    # Registrations, through the WSGI application in-process.
    application = importlib.import_module("config.wsgi").application
    path = f"/api/v1/events/{GROWTH_SLUG}/registrations/"
    times, cpu0 = [], time.process_time()
    for k in range(GROWTH_REGISTER):
        t = time.perf_counter()
        status, body = _wsgi_post(
            application,
            path,
            {
                "session": session_ids[k % len(session_ids)],
                "full_name": "Growth Attendee",
                "email": f"timed-{k}@example.org",
                "language": "en",
            },
        )
        times.append(time.perf_counter() - t)
        if status != 201:
            raise RuntimeError(f"growth registration: HTTP {status} {body}")
    register_cpu = (time.process_time() - cpu0) / GROWTH_REGISTER

    # The pages name their static files; the bench has not run collectstatic.
    from django.conf import settings
    from django.test.utils import override_settings

    plain_static = override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
            },
        }
    )
    plain_static.enable()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    pages = {
        "dashboard": reverse("console:dashboard", args=[GROWTH_SLUG]),
        "dashboard stats": reverse("console:dashboard_stats", args=[GROWTH_SLUG]),
        "attendees": reverse("console:attendees", args=[GROWTH_SLUG]),
        "attendees of a session": reverse("console:attendees", args=[GROWTH_SLUG])
        + f"?session={session_ids[-1]}&sort=status",
    }
    results: dict[str, Any] = {}
    captured: list[tuple[str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append((sql, params))
        return execute(sql, params, many, context)

    for name, url in pages.items():
        if client.get(url).status_code != 200:
            raise RuntimeError(f"growth: {name} {url} did not answer 200")
        walls = []
        for _ in range(GROWTH_REPEAT):
            captured.clear()  # the last GET's statements count
            with connection.execute_wrapper(record):
                t = time.perf_counter()
                response = client.get(url)
                walls.append(time.perf_counter() - t)
            assert response.status_code == 200
        tracemalloc.start()
        client.get(url)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        plans = []
        if explain == "1":
            for sql, params in captured:
                if "events_registration" not in sql:
                    continue
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN {sql}", params)
                    plans.append(
                        {"sql": sql, "plan": "\n".join(r[0] for r in cursor.fetchall())}
                    )
        results[name] = {
            "ms": statistics.median(walls) * 1000,
            "queries": len(captured),
            "peak_kb": peak / 1024,
            "plans": plans,
        }
    return {
        "size": n,
        "sessions": len(session_ids),
        "load_s": load_s,
        "register_ms": statistics.median(times) * 1000,
        "register_cpu_ms": register_cpu * 1000,
        "pages": results,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def growth_run(args: argparse.Namespace) -> int:
    """``--growth``: one fresh helper process per size, a table, then EXPLAIN."""
    rows = []
    for k, size in enumerate(args.sizes):
        wait_idle(args, f"growth size {size}")
        t0 = time.perf_counter()
        rows.append(
            run_helper(
                args,
                "growth",
                str(size),
                str(args.sessions),
                "1" if k == len(args.sizes) - 1 else "0",
                timeout=600,
            )
        )
        log(f"size {size}: {time.perf_counter() - t0:.1f} s")
    names = list(rows[0]["pages"])
    print()
    print(
        f"Growth ({args.sessions} sessions; registration: median of {GROWTH_REGISTER} "
        f"in-process; pages: median of {GROWTH_REPEAT} GETs, queries, Python peak KiB)"
    )
    header = (
        f"  {'registrations':>13}  {'register ms':>11}  {'CPU ms':>6}  "
        + "  ".join(f"{n:>26}" for n in names)
        + f"  {'max RSS MB':>10}"
    )
    print(header)
    for r in rows:
        cells = "  ".join(
            f"{p['ms']:8.1f} ms {p['queries']:3d} q {p['peak_kb']:7.0f} K"
            for p in r["pages"].values()
        )
        print(
            f"  {r['size']:>13,}  {r['register_ms']:11.2f}  {r['register_cpu_ms']:6.2f}  "
            f"{cells}  {r['maxrss_mb']:10.1f}"
        )
    counts = {n: {r["pages"][n]["queries"] for r in rows} for n in names}
    constant = all(len(c) == 1 for c in counts.values())
    print(
        "  query counts constant across sizes: "
        + ("yes" if constant else f"NO {counts}")
    )
    last = rows[-1]
    seq = []
    print(f"\nEXPLAIN at {last['size']:,} registrations:")
    for name, page in last["pages"].items():
        for plan in page["plans"]:
            print(f"-- {name}: {plan['sql'][:300]}")
            print("   " + plan["plan"].replace("\n", "\n   "))
            if re.search(r"Seq Scan on events_registration", plan["plan"]):
                seq.append(name)
    print(
        "  sequential scans of events_registration: "
        + (", ".join(sorted(set(seq))) if seq else "none")
    )
    return 0 if constant and not seq else 1


def _wsgi_post(
    application: Any, path: str, payload: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """One request through the real WSGI handler (middleware, signals and all), in-process."""
    import io

    body = json.dumps(payload).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "application/json",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "SCRIPT_NAME": "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status: list[str] = []
    chunks = application(environ, lambda s, h, exc_info=None: status.append(s))
    try:
        data = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()  # request_finished: what gunicorn does after each response
    return int(status[0].split()[0]), json.loads(data or b"{}")


# Distinctive values for the captured registration, so that every place it shows up
# (a column, a foreign key, a dedupe key, a JSON context) can be found and replaced.
ID_BASE = {
    "seat": 1_900_000_000,
    "wait": 1_950_000_000,
}  # + 100_000 per table; int4-safe
WAITLIST_MARK = 1_800_000_000  # the captured waiting-list number is this + 1


def helper_capture(
    app: str, slug: str, seat: str, wait: str, out_dir: str
) -> dict[str, Any]:
    """Captures the SQL of one registration in each path and writes two pgbench scripts.

    The request goes through the WSGI application in this process, exactly as under
    gunicorn (middleware, request signals, DRF): Django's ``execute_wrapper`` sees every
    statement with its parameters, and the connection health check (a bare ``SELECT 1``
    that bypasses the wrapper) is recorded by wrapping ``is_usable``. Transaction
    boundaries come from ``in_atomic_block``.

    Values that are unique per registration become pgbench expressions wherever they
    appear (whole parameters, or inside strings and JSON): the email and the ticket code
    are built from ``:client_id`` and a random ``:n``; ids handed out by sequences and the
    waiting-list number are read back by pgbench with ``\\gset`` like Django reads them.
    To find those ids, every sequence is first moved to a distinctive value.
    """
    import importlib

    from django.db import connections

    from events.models import Session

    module, _, name = app.partition(":")
    application = getattr(importlib.import_module(module), name or "application")
    conn = connections["default"]
    path = f"/api/v1/events/{slug}/registrations/"

    def payload(email: str, session_id: str) -> dict[str, Any]:
        return {
            "session": int(session_id),
            "full_name": "Bench Attendee",
            "email": email,
            "phone": "+86 574 8000 0000",
            "organisation": "Bench Community",
            "language": "en",
        }

    # Uncaptured first requests open the connection and load every code path.
    for session_id in (seat, wait):
        status, body = _wsgi_post(
            application,
            path,
            payload(f"capture-warmup-{session_id}@example.org", session_id),
        )
        if status != 201:
            raise RuntimeError(f"capture warm-up: HTTP {status} {body}")

    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, s.oid::regclass::text FROM pg_class s "
            "JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass "
            "JOIN pg_class t ON t.oid = d.refobjid "
            "WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i') ORDER BY 1"
        )
        sequences = cursor.fetchall()

    records: list[dict[str, Any]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        records.append({"sql": sql, "params": params, "atomic": conn.in_atomic_block})
        return execute(sql, params, many, context)

    original_is_usable = conn.is_usable

    def is_usable() -> bool:
        records.append(
            {"sql": "SELECT 1", "params": None, "atomic": False, "health_check": True}
        )
        return original_is_usable()

    out: dict[str, Any] = {"tables": set()}
    for name, session_id, expected in (
        ("seat", seat, "confirmed"),
        ("wait", wait, "waitlisted"),
    ):
        email = f"capture-{name}@example.org"
        next_ids = {}
        with conn.cursor() as cursor:
            for k, (table, sequence) in enumerate(sequences):
                cursor.execute(
                    "SELECT setval(%s, %s)", [sequence, ID_BASE[name] + k * 100_000]
                )
                next_ids[table] = ID_BASE[name] + k * 100_000 + 1
        Session.objects.filter(pk=wait).update(waitlist_last=WAITLIST_MARK)
        records.clear()
        conn.is_usable = is_usable  # type: ignore[method-assign]
        try:
            with conn.execute_wrapper(wrapper):
                status, body = _wsgi_post(application, path, payload(email, session_id))
        finally:
            conn.is_usable = original_is_usable  # type: ignore[method-assign]
        if status != 201 or body.get("status") != expected:
            raise RuntimeError(f"capture {name}: HTTP {status} {body}")
        targets = {email: EMAIL_EXPR, body["code"]: CODE_EXPR}
        targets.update({str(i): f":{table}_id" for table, i in next_ids.items()})
        if expected == "waitlisted":
            targets[str(WAITLIST_MARK + 1)] = ":waitlist_last"
        statements = [_pgbench_statement(conn, r, targets) for r in list(records)]
        _pgbench_gsets(statements)
        script = _pgbench_script(statements)
        # Also those of a statement that writes several tables (WITH ... INSERT).
        inserted = {
            m.group(1)
            for s in statements
            for m in re.finditer(r'\bINSERT INTO "(\w+)"', s["sql"])
        }
        for leaked in [email, body["code"]] + [
            str(next_ids[t]) for t in inserted if t in next_ids
        ]:
            if leaked in script:
                raise RuntimeError(
                    f"capture {name}: {leaked!r} was not replaced in the script"
                )
        file = Path(out_dir) / f"{name}.sql"
        file.write_text(script)
        out[name] = {"file": str(file), "statements": statements}
        out["tables"] |= inserted
        out.setdefault("inserts", {})[name] = {
            t: sum(
                len(re.findall(f'\\bINSERT INTO "{t}"', s["sql"])) for s in statements
            )
            for t in inserted
        }
    out["tables"] = sorted(out["tables"])
    return out


EMAIL_EXPR = "('bench-' || :client_id || '-' || :n || '@example.org')"
CODE_EXPR = "('B' || :client_id || 'X' || :n)"  # at most 1 + 2 + 1 + 12 = 16 characters


def _pgbench_statement(
    conn: Any, record: dict[str, Any], targets: dict[str, str]
) -> dict[str, Any]:
    """One captured statement as pgbench SQL: literals composed as psycopg sends them,
    each unique value of the registration replaced by its pgbench expression."""
    sql, params = record["sql"], record["params"]
    base = {
        "atomic": record["atomic"],
        "gset": None,
        "health_check": record.get("health_check", False),
    }
    if params is None:
        return {"sql": sql, **base}
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(targets, key=len, reverse=True))
    )

    def quote(text: str) -> str:
        return conn.ops.compose_sql("%s", [text])

    def as_text(expr: str) -> str:
        return expr if expr.startswith("(") else f"({expr})::text"

    def string_expr(text: str) -> str | None:
        if text in targets:
            return as_text(targets[text])
        parts, pos = [], 0
        for m in pattern.finditer(text):
            if m.start() > pos:
                parts.append(quote(text[pos : m.start()]))
            parts.append(as_text(targets[m.group()]))
            pos = m.end()
        if not parts:
            return None
        if pos < len(text):
            parts.append(quote(text[pos:]))
        return "(" + " || ".join(parts) + ")"

    params = list(params)
    sentinels: dict[str, str] = {}
    for i, value in enumerate(params):
        expr = None
        if isinstance(value, bool):
            pass
        elif isinstance(value, int) and str(value) in targets:
            expr = targets[str(value)]
        elif isinstance(value, str):
            expr = string_expr(value)
        elif hasattr(value, "obj") and hasattr(value, "dumps"):  # psycopg Json/Jsonb
            text = value.dumps(value.obj)
            text = text.decode() if isinstance(text, bytes) else text
            expr = string_expr(text)
            if expr is not None:
                expr = (
                    f"{expr}::{'jsonb' if type(value).__name__ == 'Jsonb' else 'json'}"
                )
        if expr is not None:
            sentinel = f"@@bench{i}@@"
            sentinels[sentinel] = expr
            params[i] = sentinel
    text = conn.ops.compose_sql(sql, params)
    for sentinel, expr in sentinels.items():
        text = text.replace(f"'{sentinel}'", expr)
    return {"sql": text, **base}


def _pgbench_gsets(statements: list[dict[str, Any]]) -> None:
    """Reads back, with \\gset, the values later statements use (as Django does)."""
    for k, s in enumerate(statements):
        later = " ".join(t["sql"] for t in statements[k + 1 :])
        insert = re.match(
            r'INSERT INTO "(\w+)".* RETURNING ("\1"\.)?"id"\s*$', s["sql"], re.S
        )
        if insert and f":{insert.group(1)}_id" in later:
            s["gset"] = f"{insert.group(1)}_"  # -> :<table>_id
        elif ":waitlist_last" in later and (
            # The row lock's SELECT reads every column the decision needs; the
            # number it reads back stands in for the one Django computes from it.
            re.match(
                r'SELECT .*"events_session"\."waitlist_last".* FOR UPDATE\s*$',
                s["sql"],
                re.S,
            )
            # (and the place it is, computed beside it: :waitlist_position)
            or re.search(
                r'RETURNING ("events_session"\.)?"waitlist_last"(,.*)?\s*$',
                s["sql"],
                re.S,
            )
        ):
            s["gset"] = ""  # -> :waitlist_last


def _pgbench_script(statements: list[dict[str, Any]]) -> str:
    lines = [
        "-- Generated by bench/flash_crowd.py from one registration captured in Django.",
        "\\set n random(1, 999999999999)",
    ]
    in_txn = False
    for s in statements:
        if s["atomic"] and not in_txn:
            lines.append("BEGIN;")
            in_txn = True
        elif not s["atomic"] and in_txn:
            lines.append("COMMIT;")
            in_txn = False
        if s["health_check"]:
            lines.append("-- connection health check (CONN_HEALTH_CHECKS)")
        sql = s["sql"].replace("\n", " ")
        lines.append(
            f"{sql} \\gset {s['gset']}".rstrip() if s["gset"] is not None else f"{sql};"
        )
    if in_txn:
        lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# gunicorn
# --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, args: argparse.Namespace, log_path: Path) -> None:
        self.args = args
        self.port = free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def describe(self) -> str:
        a = self.args
        kind = f"{a.worker_class}" + (
            f", {a.threads} threads each" if a.worker_class == "gthread" else ""
        )
        cma = a.conn_max_age if a.conn_max_age is not None else "app default"
        app = "" if a.app == "config.wsgi:application" else f", app {a.app}"
        return f"gunicorn: {a.workers} workers ({kind}), DATABASE_CONN_MAX_AGE={cma}{app}, 127.0.0.1:{self.port}"

    def start(self) -> None:
        a = self.args
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            a.app,
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(a.workers),
            "--worker-class",
            a.worker_class,
            "--backlog",
            "2048",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
        ]
        if a.worker_class == "gthread":
            cmd += ["--threads", str(a.threads)]
        logf = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=django_env(a),
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                c = http.client.HTTPConnection(HOST, self.port, timeout=5)
                c.request("GET", "/healthz")
                c.getresponse().read()
                c.close()
                return
            except OSError:
                time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer within 60 s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        if not self.proc:
            return []
        try:
            children = (
                Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
                .read_text()
                .split()
            )
        except OSError:
            return []
        return [int(c) for c in children]

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # the master stops its workers
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(
                    self.proc.pid, signal.SIGKILL
                )  # its own session: only what we started
            self.proc.wait(timeout=5)


# --------------------------------------------------------------------------------------
# Load generator: processes x threads, each thread one HTTP/1.1 connection
# --------------------------------------------------------------------------------------


def _client_process(
    port: int,
    path: str,
    jobs: list[tuple[int, int, str]],
    threads: int,
    timeout: float,
    ready: Any,
    start: Any,
    results: Any,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler
    work: queue.SimpleQueue[tuple[int, int, str]] = queue.SimpleQueue()
    for job in jobs:
        work.put(job)
    out: list[tuple[Any, ...]] = []
    lock = threading.Lock()
    last_end = [0.0]

    def run() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        mine = []
        start.wait()
        while True:
            try:
                i, session_id, email = work.get_nowait()
            except queue.Empty:
                break
            body = json.dumps(
                {
                    "session": session_id,
                    "full_name": f"Flash Crowd {i}",
                    "email": email,
                    "phone": "+86 574 8000 0000",
                    "organisation": "Demo Community 07",
                    "language": "zh-hans" if i % 2 else "en",
                }
            ).encode()
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
            except (
                Exception
            ) as exc:  # a transport error is a failed request, not a crash
                conn.close()
                status, data = 0, repr(exc).encode()
            latency = time.perf_counter() - t0
            reg_status = position = code = None
            try:
                doc = json.loads(data)
                reg_status, position, code = (
                    doc.get("status"),
                    doc.get("waitlist_position"),
                    doc.get("code"),
                )
            except Exception:
                code = data[:200].decode(errors="replace")
            mine.append(
                (
                    i,
                    status,
                    latency,
                    reg_status,
                    position,
                    code if status != 201 else None,
                )
            )
        conn.close()
        with lock:
            out.extend(mine)
            last_end[0] = max(last_end[0], time.monotonic())

    pool = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    ready.put(os.getpid())
    for t in pool:
        t.join()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    results.put({"results": out, "end": last_end[0], "cpu": ru.ru_utime + ru.ru_stime})


def _proc_cpu(pids: list[int]) -> dict[int, float]:
    """utime + stime of each of these processes, in seconds (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return out


def _cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used in between by processes alive at the end (new ones count whole)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL server so far: every server process, plus what the
    postmaster has reaped from backends that exited (they come and go with
    DATABASE_CONN_MAX_AGE). The whole server: other databases' work counts too."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if (d / "comm").read_text().strip() != "postgres":
                continue
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            parent = Path(f"/proc/{fields[1]}/comm").read_text().strip()
            if parent != "postgres":  # the postmaster: add its reaped children
                total += int(fields[13]) + int(fields[14])  # cutime, cstime
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def _commits(args: argparse.Namespace) -> int:
    """Committed transactions in the bench database so far (cumulative statistics)."""
    pg_execute(args, "SELECT pg_stat_clear_snapshot()")
    return pg_execute(
        args, "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (args.db,)
    )[0][0]


def machine_busy(seconds: float = 2.0) -> float:
    """Cores busy on the whole machine over a short idle period, before we add load."""
    b0, t0 = _system_cpu()
    time.sleep(seconds)
    b1, t1 = _system_cpu()
    return (b1 - b0) / (t1 - t0) * (os.cpu_count() or 1) if t1 > t0 else 0.0


def wait_idle(args: argparse.Namespace, what: str) -> None:
    """On a shared machine, waits (up to --wait-idle seconds) for others' work to pause."""
    deadline = time.monotonic() + args.wait_idle
    busy = machine_busy()
    if busy > IDLE_CORES and args.wait_idle:
        log(
            f"{busy:.2f} cores busy with other work; waiting up to {args.wait_idle} s before {what}"
        )
        while busy > IDLE_CORES and time.monotonic() < deadline:
            busy = machine_busy(3.0)
    if busy > IDLE_CORES:
        log(
            f"WARNING: {busy:.2f} cores were busy with other work just before {what}; "
            "its numbers are disturbed"
        )


def _system_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = f[3] + f[4]
    total = sum(f[:8])
    return (total - idle) / os.sysconf("SC_CLK_TCK"), total / os.sysconf("SC_CLK_TCK")


def load(
    args: argparse.Namespace,
    server: Server,
    slug: str,
    session_id: int,
    n: int,
    prefix: str,
) -> dict[str, Any]:
    """n registrations from args.clients concurrent clients; returns per-request results."""
    path = f"/api/v1/events/{slug}/registrations/"
    jobs = [(i, session_id, f"{prefix}-{i:05d}@example.org") for i in range(n)]
    ctx = mp.get_context("fork")
    ready, start, results = ctx.Queue(), ctx.Event(), ctx.Queue()
    per_proc = [
        args.clients // args.processes + (1 if k < args.clients % args.processes else 0)
        for k in range(args.processes)
    ]
    procs = [
        ctx.Process(
            target=_client_process,
            args=(
                server.port,
                path,
                jobs[k :: args.processes],
                per_proc[k],
                args.request_timeout,
                ready,
                start,
                results,
            ),
            daemon=True,
        )
        for k in range(args.processes)
    ]
    try:
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=30)
        workers = server.worker_pids()
        PUBLISHERS.update(workers)
        commits0 = _commits(args)
        cpu0 = (_proc_cpu(workers), _postgres_cpu(), _system_cpu())
        t0 = time.monotonic()
        start.set()
        budget = max(120.0, n * args.request_timeout / args.clients * 2)
        collected = [results.get(timeout=budget) for _ in procs]
        wall = max(c["end"] for c in collected) - t0
        cpu1 = (_proc_cpu(workers), _postgres_cpu(), _system_cpu())
        PUBLISHERS.update(server.worker_pids())
        time.sleep(1.0)  # backends report their statistics at most once a second
        commits = _commits(args) - commits0 - 2  # less our own two queries
        for p in procs:
            p.join(timeout=10)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()  # our own child, by its pid
                p.join(timeout=5)
    rows = sorted((r for c in collected for r in c["results"]), key=lambda r: r[0])
    busy = cpu1[2][0] - cpu0[2][0]
    span = cpu1[2][1] - cpu0[2][1]
    cpu = {
        "gunicorn workers": _cpu_delta(cpu0[0], cpu1[0]) / wall,
        "postgres": (cpu1[1] - cpu0[1]) / wall,
        "load generator": sum(c["cpu"] for c in collected) / wall,
    }
    machine = busy / span * (os.cpu_count() or 1) if span else 0.0
    cpu["everything else"] = max(0.0, machine - sum(cpu.values()))
    return {
        "rows": rows,
        "wall": wall,
        "cpu": cpu,
        "machine": machine,
        "commits": commits,
    }


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(q / 100 * len(s)) - 1))]


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------


class Checks:
    def __init__(self) -> None:
        self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        print(
            f"  {'PASS' if ok else 'FAIL'}  {name}"
            + (f"  ({detail})" if detail else ""),
            flush=True,
        )
        self.failed += not ok
        return ok


def check_outcome(
    args: argparse.Namespace, checks: Checks, session_id: int, rows: list[tuple]
) -> None:
    n, cap = args.requests, args.capacity
    confirmed_n, waitlisted_n = min(n, cap), max(0, n - cap)
    statuses: dict[int, int] = {}
    for r in rows:
        statuses[r[1]] = statuses.get(r[1], 0) + 1
    breakdown = ", ".join(
        f"{k or 'transport error'}: {v}" for k, v in sorted(statuses.items())
    )
    errors = sorted({str(r[5]) for r in rows if r[1] != 201})[:3]
    checks.check(f"{len(rows)} responses received", len(rows) == n, f"expected {n}")
    checks.check(
        "no 5xx responses and no transport errors",
        not any(r[1] >= 500 or r[1] == 0 for r in rows),
        breakdown,
    )
    checks.check(
        "every response is 201",
        statuses.get(201, 0) == n,
        breakdown + (f"; e.g. {errors}" if errors else ""),
    )
    api_confirmed = sum(1 for r in rows if r[1] == 201 and r[3] == "confirmed")
    api_positions = sorted(
        r[4] if isinstance(r[4], int) else -1
        for r in rows
        if r[1] == 201 and r[3] == "waitlisted"
    )
    checks.check(
        f"API answered {confirmed_n} confirmed, {waitlisted_n} waitlisted, positions 1..{waitlisted_n} once each",
        api_confirmed == confirmed_n
        and api_positions == list(range(1, waitlisted_n + 1)),
        f"{api_confirmed} confirmed, {len(api_positions)} waitlisted",
    )
    by_status = dict(
        pg_execute(
            args,
            "SELECT status, count(*) FROM events_registration WHERE session_id = %s GROUP BY status",
            (session_id,),
        )
    )
    checks.check(
        f"database: exactly {confirmed_n} confirmed",
        by_status.get("confirmed", 0) == confirmed_n,
        f"{by_status.get('confirmed', 0)}",
    )
    checks.check(
        f"database: exactly {waitlisted_n} waitlisted",
        by_status.get("waitlisted", 0) == waitlisted_n,
        f"{by_status.get('waitlisted', 0)}",
    )
    checks.check(
        "database: no other registrations", sum(by_status.values()) == n, f"{by_status}"
    )
    ranks = [
        r[0]
        for r in pg_execute(
            args,
            "SELECT rank() OVER (ORDER BY waitlist_number) FROM events_registration "
            "WHERE session_id = %s AND status = 'waitlisted' ORDER BY 1",
            (session_id,),
        )
    ]
    checks.check(
        f"database: waiting-list positions (rank by waitlist_number) unique and exactly 1..{waitlisted_n}",
        ranks == list(range(1, waitlisted_n + 1)),
        f"{len(ranks)} positions, {len(set(ranks))} distinct",
    )
    ((seats_taken, capacity),) = pg_execute(
        args,
        "SELECT seats_taken, capacity FROM events_session WHERE id = %s",
        (session_id,),
    )
    checks.check(
        "database: seats_taken equals confirmed and capacity (no overbooking)",
        seats_taken == by_status.get("confirmed", 0) == min(n, capacity),
        f"seats_taken={seats_taken}, capacity={capacity}",
    )


# --------------------------------------------------------------------------------------
# Ceiling: pgbench
# --------------------------------------------------------------------------------------


def ceiling_reset(
    args: argparse.Namespace, ids: dict[str, int], tables: list[str]
) -> None:
    """Back to the state the HTTP run started from: empty tables (registrations, attendees
    and whatever else a registration inserts into), the sessions' counters at zero."""
    names = sorted({"events_registration", "events_attendee", *tables})
    if any(not re.fullmatch(r"\w+", t) for t in names):
        raise BenchError(f"unexpected table names {names}")
    pg_execute(args, f"TRUNCATE {', '.join(names)} CASCADE")
    pg_execute(
        args,
        "UPDATE events_session SET seats_taken = 0, waitlist_last = 0 WHERE id = %s",
        (ids["seat"],),
    )
    pg_execute(
        args,
        "UPDATE events_session SET seats_taken = capacity, waitlist_last = 0 WHERE id = %s",
        (ids["wait"],),
    )
    pg_execute(args, f"VACUUM ANALYZE events_session, {', '.join(names)}")


def pgbench(args: argparse.Namespace, files: dict[str, str]) -> dict[str, Any]:
    """Podium's own SQL: the seat and the waiting-list scripts in the HTTP run's mix."""
    seat_weight = round(100 * min(args.capacity, args.requests) / args.requests)
    scripts = []
    if seat_weight > 0:
        scripts.append(f"{files['seat']}@{seat_weight}")
    if seat_weight < 100:
        scripts.append(f"{files['wait']}@{100 - seat_weight}")
    # As Podium sends them: its own statements prepared on the connection unless
    # the operator turned that off (config.prepared).
    import environ

    prepared = environ.Env().bool("DATABASE_PREPARED_STATEMENTS", default=True)
    mode = "prepared" if prepared else "simple"
    return {
        **pgbench_run(args, scripts, mode=mode),
        "seat_weight": seat_weight,
        "mode": mode,
    }


# The fixed yardstick: the least a registration can be on one hot row. A table pair of
# its own (created by the bench, never Podium's), the same clients and transactions.
HOT_ROW_TABLES = """
DROP TABLE IF EXISTS bench_hot_registration, bench_hot_session;
CREATE TABLE bench_hot_session (
    id integer PRIMARY KEY,
    capacity integer NOT NULL,
    seats_taken integer NOT NULL DEFAULT 0
);
CREATE TABLE bench_hot_registration (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    session_id integer NOT NULL REFERENCES bench_hot_session (id),
    code varchar(16) NOT NULL UNIQUE
);
INSERT INTO bench_hot_session (id, capacity) VALUES (1, 2000000000);
"""
HOT_ROW_SCRIPT = """-- The fixed yardstick (bench/flash_crowd.py): a minimal hot-row registration.
\\set n random(1, 999999999999)
BEGIN;
UPDATE bench_hot_session SET seats_taken = seats_taken + 1 WHERE id = 1 AND seats_taken < capacity;
INSERT INTO bench_hot_registration (session_id, code) VALUES (1, 'H' || :client_id || 'X' || :n);
COMMIT;
"""


def hot_row_reset(args: argparse.Namespace) -> None:
    pg_execute(args, "TRUNCATE bench_hot_registration")
    pg_execute(args, "UPDATE bench_hot_session SET seats_taken = 0")
    pg_execute(args, "VACUUM ANALYZE bench_hot_session, bench_hot_registration")


def pgbench_run(
    args: argparse.Namespace, scripts: list[str], *, mode: str = "simple"
) -> dict[str, Any]:
    exe = shutil.which("pgbench")
    if not exe:
        raise BenchError("pgbench not found (apt-get install postgresql-client)")
    ci = pg_conninfo(args)
    cmd = [
        exe,
        "-n",
        "-h",
        ci["host"],
        "-p",
        ci["port"],
        "-U",
        ci["user"],
        "-c",
        str(args.clients),
        "-j",
        "2",
        "-M",
        mode,
    ]
    if args.pgbench_seconds:
        cmd += ["-T", str(args.pgbench_seconds)]
    else:
        cmd += ["-t", str(math.ceil(args.requests / args.clients))]
    for script in scripts:
        cmd += ["-f", script]
    cmd.append(args.db)
    budget = args.pgbench_seconds + 120 if args.pgbench_seconds else 600
    b0, t0 = _system_cpu()
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=budget,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    b1, t1 = _system_cpu()
    out = proc.stdout + proc.stderr
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    done = re.search(r"number of transactions actually processed: (\d+)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    latency = re.search(r"latency average = ([\d.]+) ms", out)
    if proc.returncode != 0 or not tps or not done:
        raise BenchError(f"pgbench failed ({proc.returncode}):\n{out[-3000:]}")
    return {
        "tps": float(tps.group(1)),
        "transactions": int(done.group(1)),
        "failed": int(failed.group(1)) if failed else 0,
        "latency_ms": float(latency.group(1)) if latency else float("nan"),
        "machine": (b1 - b0) / (t1 - t0) * (os.cpu_count() or 1) if t1 > t0 else 0.0,
        "command": " ".join(Path(c).name if c == exe else c for c in cmd),
    }


def describe_statement(sql: str) -> str:
    m = re.match(r'(SELECT|UPDATE|INSERT INTO|DELETE FROM)\s.*?"(\w+)"', sql)
    verb = m.group(1).split()[0] if m else sql.split()[0]
    table = m.group(2) if m else ""
    if verb == "SELECT":
        outer = sql
        while re.search(r"\(SELECT [^()]*\)", outer):  # subqueries aside
            outer = re.sub(r"\(SELECT [^()]*\)", "", outer)
        source = re.search(r'FROM "(\w+)"', outer)
        table = source.group(1) if source else table
        if "COUNT(" in sql.upper():
            verb = "SELECT COUNT"
    if verb == "INSERT" and "ON CONFLICT" in sql:
        verb = "UPSERT"
    return f"{verb} {table.removeprefix('events_')}"


def describe_script(statements: list[dict[str, Any]]) -> str:
    parts = []
    for s in statements:
        sql = s["sql"]
        if s["health_check"]:
            parts.append("SELECT 1 (health check)")
            continue
        if sql.startswith("WITH"):
            # One statement that writes several tables: its parts, in order.
            starts = [m.end() for m in re.finditer(r'"\w+" AS \(', sql)]
            ends = [*starts[1:], len(sql)]
            inner = [sql[a:b] for a, b in zip(starts, ends, strict=True)]
            parts.append(
                "one statement ("
                + ", ".join(describe_statement(i) for i in inner)
                + ")"
                + (" [txn]" if s["atomic"] else "")
            )
            continue
        parts.append(describe_statement(sql) + (" [txn]" if s["atomic"] else ""))
    return "; ".join(parts)


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.helper:
        helper_main(args.helper, args.helper_arg)
        return 0

    def interrupt(signum: int, frame: Any) -> None:
        raise Interrupted(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(args.timeout)

    tmp = Path(tempfile.mkdtemp(prefix="podium-bench-"))
    server = Server(args, tmp / "gunicorn.log")
    checks = Checks()
    db_created = False
    lock = None
    try:
        lock = run_lock(args)
        log(f"database {args.db}: drop, create, migrate")
        database_recreate(args)
        db_created = True
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=django_env(args),
            check=True,
            timeout=300,
        )
        if args.growth:
            return growth_run(args)
        ids = run_helper(args, "setup", str(args.capacity))
        log(
            f"event {ids['event']}: session {ids['session']} (capacity {args.capacity}, waiting list on)"
        )

        log(f"starting {server.describe()}")
        server.start()
        warm = load(args, server, ids["event"], ids["warmup"], args.warmup, "warmup")
        bad = [r for r in warm["rows"] if r[1] != 201]
        log(
            f"warm-up: {args.warmup} requests to another session in {warm['wall']:.2f} s"
            + (f", {len(bad)} not 201: {bad[:2]}" if bad else "")
        )

        wait_idle(args, "the flash crowd")
        log(
            f"flash crowd: {args.requests} registrations, {args.clients} clients "
            f"({args.processes} processes x {args.clients // args.processes} threads)"
        )
        run = load(args, server, ids["event"], ids["session"], args.requests, "flash")
        rows = run["rows"]
        latencies = [r[2] * 1000 for r in rows]
        rate = args.requests / run["wall"]
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        log(
            f"done in {run['wall']:.2f} s; {run['commits'] / args.requests:.2f} database transactions "
            f"(commits) per registration"
        )
        log(
            f"CPU cores busy: {run['machine']:.2f} of {os.cpu_count()}: "
            + ", ".join(f"{k} {v:.2f}" for k, v in run["cpu"].items())
        )
        if run["cpu"]["everything else"] > IDLE_CORES:
            log(
                "WARNING: other processes used CPU during the run; the numbers are disturbed"
            )
        server.stop()
        if (
            server.proc and server.proc.returncode not in (0, None)
        ) or "Traceback" in server.log_tail(100000):
            print(f"gunicorn log:\n{server.log_tail()}")

        print("Checks:")
        check_outcome(args, checks, ids["session"], rows)

        log(
            "ceiling: capturing one registration's SQL in each path (in-process Django)"
        )
        ceiling_reset(args, ids, [])
        captured = run_helper(
            args,
            "capture",
            args.app,
            ids["event"],
            str(ids["seat"]),
            str(ids["wait"]),
            str(tmp),
        )
        for name in ("seat", "wait"):
            st = captured[name]["statements"]
            print(f"  {name} path: {len(st)} statements: {describe_script(st)}")
            if args.show_sql:
                print(Path(captured[name]["file"]).read_text())
        files = {name: captured[name]["file"] for name in ("seat", "wait")}
        pg_execute(args, HOT_ROW_TABLES)
        hot_file = tmp / "hot_row.sql"
        hot_file.write_text(HOT_ROW_SCRIPT)
        print(
            "  yardstick: 2 statements: UPDATE bench_hot_session (conditional) [txn]; "
            "INSERT bench_hot_registration (unique code) [txn]"
        )
        runs, hot_runs = [], []
        for k in range(args.pgbench_runs):
            ceiling_reset(args, ids, captured["tables"])
            wait_idle(args, f"pgbench run {k + 1}")
            result = pgbench(args, files)
            rows_per_txn = {  # tables both paths insert into the same number of times
                t: n
                for t, n in captured["inserts"]["seat"].items()
                if captured["inserts"]["wait"].get(t) == n
            }
            counts = {
                t: pg_execute(args, f'SELECT count(*) FROM "{t}"')[0][0]  # noqa: S608 - our own table names
                for t in rows_per_txn
            }
            if k == 0:
                log(f"  {result['command']}")
            log(
                f"  pgbench run {k + 1}: {result['tps']:.1f} tps, {result['transactions']} transactions, "
                f"{result['failed']} failed, latency avg {result['latency_ms']:.2f} ms, "
                f"{result['machine']:.2f} cores busy"
            )
            if not checks.check(
                "pgbench: every transaction committed its rows ("
                + ", ".join(rows_per_txn)
                + ")",
                result["failed"] == 0
                and "events_registration" in counts
                and all(
                    counts[t] == n * result["transactions"]
                    for t, n in rows_per_txn.items()
                ),
                ", ".join(f"{t}: {c}" for t, c in counts.items())
                + f" for {result['transactions']} transactions",
            ):
                break
            runs.append(result)
            # The yardstick, right after, on the same machine and clients.
            hot_row_reset(args)
            wait_idle(args, f"yardstick run {k + 1}")
            hot = pgbench_run(args, [str(hot_file)])
            ((hot_rows,),) = pg_execute(
                args, "SELECT count(*) FROM bench_hot_registration"
            )
            log(
                f"  yardstick run {k + 1}: {hot['tps']:.1f} tps, {hot['transactions']} transactions, "
                f"{hot['failed']} failed, latency avg {hot['latency_ms']:.2f} ms, "
                f"{hot['machine']:.2f} cores busy"
            )
            if not checks.check(
                "yardstick: every transaction committed its row",
                hot["failed"] == 0 and hot_rows == hot["transactions"],
                f"{hot_rows} rows for {hot['transactions']} transactions",
            ):
                break
            hot_runs.append(hot)
        ceiling = statistics.median(r["tps"] for r in runs) if runs else float("nan")
        yardstick = (
            statistics.median(r["tps"] for r in hot_runs) if hot_runs else float("nan")
        )

        ratio = rate / ceiling if runs else float("nan")
        hot_ratio = rate / yardstick if hot_runs else float("nan")
        ratio_ok = hot_ratio >= TARGET_RATIO
        p99_ok = p99 <= TARGET_P99_MS
        print()
        print(
            f"Summary ({server.describe().split(', 127')[0]}; {args.clients} clients)"
        )
        print(
            f"  registrations/s     {rate:8.1f}   ({args.requests} in {run['wall']:.2f} s)"
        )
        print(f"  latency p50         {p50:8.1f} ms")
        print(f"  latency p99         {p99:8.1f} ms")
        cpu_ms = {
            k: v * run["wall"] / args.requests * 1000 for k, v in run["cpu"].items()
        }
        cpu_ok = cpu_ms["gunicorn workers"] <= TARGET_CPU_MS
        print(
            f"  CPU per registration  gunicorn {cpu_ms['gunicorn workers']:.1f} ms, postgres "
            f"{cpu_ms['postgres']:.1f} ms, load generator {cpu_ms['load generator']:.1f} ms "
            f"(other work on the machine: {run['cpu']['everything else']:.2f} cores)"
        )
        print(
            f"  ceiling (pgbench)   {ceiling:8.1f} tps   (median of {len(runs)}: "
            f"{', '.join(format(r['tps'], '.0f') for r in runs)}; same SQL, {runs[0]['mode']}, {args.clients} clients)"
        )
        print(f"  ratio               {ratio:8.3f}   (to Podium's own SQL)")
        print(
            f"  yardstick (pgbench) {yardstick:8.1f} tps   (median of {len(hot_runs)}: "
            f"{', '.join(format(r['tps'], '.0f') for r in hot_runs)}; minimal hot-row "
            f"registration, {args.clients} clients)"
        )
        print(f"  ratio to yardstick  {hot_ratio:8.3f}   (the one that counts)")
        print(
            f"  target ratio to yardstick >= {TARGET_RATIO}: {'MET' if ratio_ok else 'MISSED'}"
        )
        print(
            f"  target p99 <= {TARGET_P99_MS:.0f} ms: {'MET' if p99_ok else 'MISSED'}"
        )
        print(
            f"  target gunicorn CPU per registration <= {TARGET_CPU_MS:.0f} ms: "
            f"{'MET' if cpu_ok else 'MISSED'}"
        )
        print(
            f"  checks: {'all PASS' if not checks.failed else f'{checks.failed} FAIL'}"
        )
        if checks.failed:
            return 1
        if args.strict and not (ratio_ok and p99_ok and cpu_ok):
            return 2
        return 0
    except (
        BenchError,
        subprocess.CalledProcessError,
        subprocess.TimeoutExpired,
        queue.Empty,
    ) as exc:
        print(f"ERROR: the benchmark could not run: {exc!r}\n{exc}", file=sys.stderr)
        if server.proc:
            print(f"gunicorn log:\n{server.log_tail()}", file=sys.stderr)
        return 3
    except Exception:
        import traceback

        traceback.print_exc()
        print("ERROR: the benchmark could not run", file=sys.stderr)
        return 3
    except (Interrupted, KeyboardInterrupt) as exc:
        print(f"ERROR: interrupted ({exc or 'Ctrl-C'}), cleaning up", file=sys.stderr)
        return 3
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # finish cleaning up
        PUBLISHERS.update(server.worker_pids())
        server.stop()
        try:
            removed = broker_cleanup(args)
            if removed:
                print(
                    f"removed the {removed} Celery messages this run published to {args.broker_url}"
                )
        except Exception as exc:
            print(
                f"could not clean up the broker {args.broker_url}: {exc!r}",
                file=sys.stderr,
            )
        if db_created and not args.keep_db:
            try:
                database_drop(args)
            except Exception as exc:
                print(f"could not drop {args.db}: {exc}", file=sys.stderr)
        if lock is not None:
            lock.close()
        if args.keep_files:
            print(f"files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

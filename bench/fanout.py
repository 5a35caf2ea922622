#!/usr/bin/env python
"""Email fan-out: 10,000 confirmed registrations whose reminder falls due at once.

A benchmark, not a test (see bench/FANOUT.md). One run:

1. drops and recreates the PostgreSQL database ``podium_bench_email``, migrates it and
   creates one published event (reminder offset 5 minutes) with one session starting in
   4 minutes, 10,000 attendees and 10,000 confirmed registrations made before the
   reminder's moment (bulk inserts: no confirmation emails exist);
2. starts a redis-server of its own on a free port and an aiosmtpd sink in a process of
   its own, which only counts what it receives per recipient and when;
3. starts ``celery -A config worker --queues celery,mail --concurrency 4`` (a prefork
   pool of 4 worker processes, as docker-compose.yml runs the worker) and
   ``celery -A config beat`` with a 1 s dispatcher
   interval. That moment is "due": the reminder is already due when they start
   (``--warm`` instead starts them first and makes the reminder fall due once the
   worker is ready);
4. waits until the sink holds 10,000 messages (or a timeout), a little longer for
   stragglers, and checks that every recipient got exactly one reminder, the one its
   Notification row names (Message-ID);
5. measures the ceiling: the very bytes the sink received, sent again by one plain
   ``smtplib`` loop over one connection to the same sink, with nothing else running;
6. prints emails/s, the time from due to the last delivery, the ceiling and the ratio
   against the target.

Everything is stopped and the database dropped at the end, also on failure or Ctrl-C.
Exit status: 0 if every check passed, 1 if one failed (2 with ``--strict`` and a missed
target), 3 if the benchmark itself could not run.

Run from the project root: ``.venv/bin/python bench/fanout.py`` (``make bench-email``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import re
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SECRET_KEY = "bench-only-secret-key-not-for-production-use-0123456789abcdefgh"
EVENT_SLUG = "fan-out"
OFFSET_MINUTES = 5
REMINDER_KIND = "session_reminder"

# Target (the issue): the outbox sends at least 60 % as fast as a plain smtplib loop.
TARGET_RATIO = 0.5  # issue 11: at least half of the smtplib loop in the same run

CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """The benchmark could not run (not a failed check)."""


class Interrupted(BaseException):
    pass


T0 = time.monotonic()


def log(message: str) -> None:
    # Elapsed time: Django's set-up changes this process's time zone (TZ) midway.
    print(f"[{time.monotonic() - T0:6.1f}s] {message}", flush=True)


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument(
        "--count", type=int, default=10_000, help="registrations, hence reminders"
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="worker processes (prefork pool); 4 as docker-compose.yml runs the worker",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="NOTIFICATIONS_BATCH_SIZE for worker and beat (default: the application's, 50)",
    )
    p.add_argument(
        "--dispatch-interval",
        type=float,
        default=1.0,
        help="NOTIFICATIONS_DISPATCH_INTERVAL, seconds",
    )
    p.add_argument(
        "--conn-max-age",
        default=None,
        help="DATABASE_CONN_MAX_AGE for worker and beat (default: the application's)",
    )
    p.add_argument(
        "--celery-app",
        default="config",
        help="Celery application of worker and beat (experiments: an importable module "
        "on PYTHONPATH that patches the project, then exposes config.celery's app)",
    )
    p.add_argument(
        "--warm",
        action="store_true",
        help="start worker and beat first; the reminder falls due once the worker is ready "
        "(default: it is due already and 'due' is the moment they start)",
    )
    p.add_argument(
        "--ceiling-runs",
        type=int,
        default=5,
        help="smtplib loop repetitions; the median counts",
    )
    p.add_argument(
        "--deliver-timeout",
        type=float,
        default=300.0,
        help="seconds to wait for every reminder",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=3.0,
        help="seconds to wait after the last reminder for duplicates",
    )
    p.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://root@127.0.0.1:5432"),
        help="PostgreSQL server, without a database name (all traffic stays on 127.0.0.1)",
    )
    p.add_argument(
        "--db", default="podium_bench_email", help="database to drop and recreate"
    )
    p.add_argument(
        "--profile",
        metavar="DIR",
        help="record the worker processes with py-spy (raw collapsed stacks) into DIR "
        "(py-spy must be installed; it costs CPU, so the figures of such a run are lower)",
    )
    p.add_argument(
        "--timeout", type=int, default=900, help="seconds for the whole benchmark"
    )
    p.add_argument(
        "--strict", action="store_true", help="exit 2 when the target is missed"
    )
    p.add_argument(
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    p.add_argument(
        "--growth",
        action="store_true",
        help="run the benchmark once per size of --sizes (each a fresh run in a process "
        "of its own, bounded by --size-timeout) and print how time, CPU and memory per "
        "reminder grow with the size",
    )
    p.add_argument(
        "--sizes",
        default="1000,3000,10000,30000,100000",
        help="--growth: reminders per run, comma-separated",
    )
    p.add_argument(
        "--size-timeout",
        type=int,
        default=900,
        help="--growth: seconds for one size's whole run (set-up, fan-out, checks, "
        "ceiling); a size that takes longer is reported as over time and the larger "
        "ones are not run",
    )
    p.add_argument(
        "--result-json",
        metavar="FILE",
        help="also write the summary's figures to FILE as JSON (--growth uses it)",
    )
    p.add_argument(
        "--keep-files", action="store_true", help="keep the worker and beat logs"
    )
    args = p.parse_args(argv)
    host = (
        re.sub(r"^[a-z]+://(?:[^@/]*@)?", "", args.pg_url).split(":")[0].split("/")[0]
    )
    if host not in ("127.0.0.1", "localhost", ""):
        p.error("--pg-url must point at 127.0.0.1")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.db):
        p.error("--db must be a plain lower-case identifier")
    if args.count < 1 or args.concurrency < 1 or args.ceiling_runs < 0:
        p.error(
            "--count and --concurrency must be at least 1, --ceiling-runs at least 0"
        )
    if args.ceiling_runs == 0 and not args.result_json:
        p.error("--ceiling-runs 0 is only for --growth runs")
    try:
        args.size_list = [int(n) for n in args.sizes.split(",") if n.strip()]
    except ValueError:
        p.error("--sizes must be comma-separated integers")
    if args.growth and (not args.size_list or min(args.size_list) < 1):
        p.error("--sizes must name at least one size of at least 1")
    if args.batch_size is not None and args.batch_size < 1:
        p.error("--batch-size must be at least 1")
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def database_url(args: argparse.Namespace, db: str | None = None) -> str:
    return f"{args.pg_url.rstrip('/')}/{db or args.db}"


def django_env(
    args: argparse.Namespace, redis_port: int, sink_port: int
) -> dict[str, str]:
    """The environment of worker, beat and this process's own Django."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO_", "CELERY_", "NOTIFICATIONS_", "EMAIL_", "DATABASE_", "REDIS_URL")
        )
    }
    env.update(
        DATABASE_URL=database_url(args),
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_DEBUG="0",
        CELERY_BROKER_URL=f"redis://{HOST}:{redis_port}/0",
        EMAIL_URL=f"smtp://{HOST}:{sink_port}",
        NOTIFICATIONS_DISPATCH_INTERVAL=str(args.dispatch_interval),
        PYTHONUNBUFFERED="1",
    )
    if args.batch_size is not None:
        env["NOTIFICATIONS_BATCH_SIZE"] = str(args.batch_size)
    if args.conn_max_age is not None:
        env["DATABASE_CONN_MAX_AGE"] = str(args.conn_max_age)
    return env


# --------------------------------------------------------------------------------------
# Database administration
# --------------------------------------------------------------------------------------


def pg_execute(args: argparse.Namespace, sql: str, db: str = "postgres") -> None:
    import psycopg

    try:
        with psycopg.connect(
            database_url(args, db), autocommit=True, connect_timeout=10
        ) as conn:
            conn.execute(sql)
    except psycopg.Error as exc:
        raise BenchError(f"PostgreSQL at {args.pg_url}: {exc}") from exc


def database_recreate(args: argparse.Namespace) -> None:
    pg_execute(args, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    pg_execute(args, f'CREATE DATABASE "{args.db}"')


def database_drop(args: argparse.Namespace) -> None:
    pg_execute(args, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')


# --------------------------------------------------------------------------------------
# The SMTP sink: aiosmtpd in a process of its own, driven over a pipe
# --------------------------------------------------------------------------------------

_MESSAGE_ID = re.compile(
    rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE
)


def sink_main(port: int, conn: Any) -> None:
    """Runs in the sink process: accepts everything, keeps arrival time, recipient,
    Message-ID and the raw bytes (a reference, no copy), answers the parent's questions."""
    import logging

    from aiosmtpd.controller import Controller

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    arrivals: list[tuple[float, str, str]] = []
    messages: list[tuple[str, list[str], bytes]] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            now = time.time()
            content = envelope.content
            head = content[: content.find(b"\r\n\r\n")]
            match = _MESSAGE_ID.search(head)
            message_id = match.group(1).decode() if match else ""
            for rcpt in envelope.rcpt_tos:
                arrivals.append((now, rcpt, message_id))
            messages.append((envelope.mail_from, list(envelope.rcpt_tos), content))
            return "250 Message accepted"

    controller = Controller(Handler(), hostname=HOST, port=port, ready_timeout=10)
    controller.start()
    conn.send(("ready", os.getpid()))
    try:
        while True:
            command = conn.recv()
            if command == "stats":
                tail = arrivals[-1][0] if arrivals else None
                conn.send((len(arrivals), arrivals[0][0] if arrivals else None, tail))
            elif command == "arrivals":
                conn.send(list(arrivals))
            elif command == "messages":
                conn.send(list(messages))
            elif command == "reset":
                arrivals.clear()
                messages.clear()
                conn.send("ok")
            elif command == "stop":
                break
    except EOFError:
        pass
    finally:
        controller.stop()


class Sink:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: Any = None
        self.conn: Any = None
        self.pid = 0
        self.lock = threading.Lock()

    def start(self) -> Sink:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=sink_main, args=(self.port, child), daemon=True
        )
        self.process.start()
        child.close()
        if not self.conn.poll(30):
            raise BenchError("the SMTP sink did not start within 30 s")
        try:
            _ready, self.pid = self.conn.recv()
        except EOFError:
            raise BenchError("the SMTP sink exited while starting") from None
        return self

    def ask(self, command: str, timeout: float = 60) -> Any:
        with self.lock:
            self.conn.send(command)
            if not self.conn.poll(timeout):
                raise BenchError(f"the SMTP sink did not answer {command!r}")
            return self.conn.recv()

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(Exception):
            self.conn.send("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(10)
        self.process = None


# --------------------------------------------------------------------------------------
# Redis, worker and beat
# --------------------------------------------------------------------------------------


class Redis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> Redis:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection((HOST, self.port), timeout=0.5),
            ):
                return self
            time.sleep(0.05)
        raise BenchError("redis-server did not answer within 10 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class Celery:
    """``celery -A config worker`` or ``beat``, in a process group of its own."""

    def __init__(
        self, kind: str, args: argparse.Namespace, env: dict[str, str], directory: Path
    ) -> None:
        self.kind = kind
        self.args = args
        self.env = env
        self.log_path = directory / f"{kind}.log"
        self.schedule = directory / "celerybeat-schedule"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        base = [sys.executable, "-m", "celery", "-A", self.args.celery_app]
        if self.kind == "worker":
            return [
                *base,
                "worker",
                "--queues",
                "celery,mail",
                "--concurrency",
                str(self.args.concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ]
        return [*base, "beat", "--loglevel", "INFO", "--schedule", str(self.schedule)]

    def start(self) -> Celery:
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def output(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def children(self) -> list[int]:
        return children_of(self.process.pid) if self.process else []

    def stop(self) -> None:
        if self.process is None:
            return
        # A warm shutdown: the main process stops its pool. Then whatever is left of
        # the process group (its own session: only what we started) is killed.
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # stragglers of the pool
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.process = None


# --------------------------------------------------------------------------------------
# CPU accounting (from /proc): where the two cores went
# --------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def children_of(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields and int(fields[1]) == parent:
                found.append(int(entry))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def postgres_pids(db: str) -> list[int]:
    """The PostgreSQL server's own processes and the backends serving ``db`` (not
    those of other databases, which other work on this machine may be using)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{entry}/comm").read_text().strip() != "postgres":
                    continue
                title = Path(f"/proc/{entry}/cmdline").read_text().replace("\0", " ")
                backend = re.search(r": \S+ (\S+) [^ ]+\(\d+\)", title)
                if backend is None or backend.group(1) == db:
                    pids.append(int(entry))
    return pids


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far."""
    fields = [
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields) - idle) / CLK_TCK, sum(fields) / CLK_TCK


def peak_rss_mb(pids: list[int]) -> float:
    """The largest peak resident set (VmHWM) among processes, in MB."""
    peak = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    return peak / 1024


def machine_busy(seconds: float = 2.0) -> float:
    """Cores busy with anything, over a short look."""
    b0, t0 = machine_cpu()
    time.sleep(seconds)
    b1, t1 = machine_cpu()
    return (b1 - b0) / (t1 - t0) * (os.cpu_count() or 1) if t1 > t0 else 0.0


class CpuMeter:
    """CPU seconds used by named groups of processes between start() and stop().

    Processes come and go (pool processes, database backends): each sample() takes the
    CPU time of every process of a group now, and a process's share is its last sample
    less its first (zero for one that appeared after start()). A process that ends
    loses at most what it used since the last sample.
    """

    def __init__(self, groups: dict[str, Any]) -> None:
        self.groups = groups  # name -> callable returning pids
        self.first: dict[str, dict[int, float]] = {}
        self.last: dict[str, dict[int, float]] = {}
        self.machine0 = (0.0, 0.0)
        self.t0 = 0.0
        self.next_sample = 0.0

    def _take(self, initial: bool) -> None:
        for name, find in self.groups.items():
            for pid in find():
                seconds = cpu_seconds([pid])
                if initial:
                    self.first[name][pid] = seconds
                self.first[name].setdefault(pid, 0.0)
                self.last[name][pid] = seconds

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.machine0 = machine_cpu()
        self.first = {name: {} for name in self.groups}
        self.last = {name: {} for name in self.groups}
        self._take(initial=True)
        self.next_sample = self.t0 + 0.5

    def sample(self) -> None:
        """Called often; looks at /proc at most twice a second."""
        if time.monotonic() >= self.next_sample:
            self._take(initial=False)
            self.next_sample = time.monotonic() + 0.5

    def stop(self) -> dict[str, float]:
        self._take(initial=False)
        wall = time.monotonic() - self.t0
        b1, _t1 = machine_cpu()
        used = {
            name: sum(
                self.last[name][pid] - self.first[name][pid] for pid in self.last[name]
            )
            for name in self.groups
        }
        whole = b1 - self.machine0[0]
        used["everything else"] = max(whole - sum(used.values()), 0.0)
        used["whole machine"] = whole
        used["wall"] = wall
        return used


def describe_cpu(used: dict[str, float]) -> str:
    wall = used["wall"] or 1.0
    parts = [
        f"{name} {sec:.1f} s ({sec / wall:.2f} cores)"
        for name, sec in used.items()
        if name != "wall"
    ]
    return f"over {wall:.1f} s: " + ", ".join(parts)


# --------------------------------------------------------------------------------------
# Django side (in this process, on the bench database)
# --------------------------------------------------------------------------------------


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    for name in list(os.environ):
        if name not in env and name.startswith(
            ("DJANGO_", "CELERY_", "NOTIFICATIONS_", "EMAIL_", "DATABASE_")
        ):
            del os.environ[name]
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(count: int, *, warm: bool) -> dict[str, Any]:
    """One published event, one session, ``count`` confirmed registrations made a day
    before the reminder's moment. Bulk inserts: no confirmation rows are written."""
    from django.db import transaction
    from django.utils import timezone

    from events.models import Attendee, Event, Registration, Session, Venue

    now = timezone.now()
    # Due at once: starts in 4 minutes, reminded 5 minutes before. --warm: far off
    # until the worker is ready; make_due() moves it then.
    starts = now + (dt.timedelta(days=30) if warm else dt.timedelta(minutes=4))
    with transaction.atomic():
        venue = Venue.objects.create(name="Ningbo Talents House", address="Ningbo")
        event = Event.objects.create(
            slug=EVENT_SLUG,
            title="Social Work Publicity Week (fan-out bench)",
            status=Event.Status.PUBLISHED,
            timezone="Asia/Shanghai",
            starts_on=starts.date(),
            ends_on=(starts + dt.timedelta(days=1)).date(),
            venue=venue,
            reminder_offsets=[OFFSET_MINUTES],
        )
        session = Session.objects.create(
            event=event,
            title="Award ceremony",
            kind=Session.Kind.CEREMONY,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            capacity=count,
            seats_taken=count,
        )
        attendees = [
            Attendee(
                email=f"attendee{i:05d}@example.org",
                full_name=f"陈佳萌 {i}" if i % 2 else f"Attendee {i}",
                language="zh-hans" if i % 2 else "en",
            )
            for i in range(count)
        ]
        Attendee.objects.bulk_create(attendees, batch_size=2000)
        Registration.objects.bulk_create(
            [
                Registration(
                    session=session,
                    event_id=session.event_id,
                    attendee=a,
                    full_name=a.full_name,
                    email=a.email,
                    language=a.language,
                    status=Registration.Status.CONFIRMED,
                )
                for a in attendees
            ],
            batch_size=2000,
        )
        # created_at is auto_now_add: moved back after the insert.
        Registration.objects.filter(session=session).update(
            created_at=now - dt.timedelta(days=1)
        )
    return {"session": session.pk, "recipients": {a.email for a in attendees}}


def make_due(session_id: int) -> float:
    """--warm: moves the session so that its reminder's moment is now; returns it."""
    from django.utils import timezone

    from events.models import Session

    now = timezone.now()
    starts = now + dt.timedelta(minutes=OFFSET_MINUTES)
    Session.objects.filter(pk=session_id).update(
        starts_at=starts, ends_at=starts + dt.timedelta(hours=2)
    )
    return now.timestamp()


def outbox_rows() -> dict[str, Any]:
    from django.db import connections
    from django.db.models import Count, Max, Min

    from events.models import SessionReminder
    from notifications.models import Notification

    reminders = Notification.objects.filter(kind=REMINDER_KIND)
    by_status = dict(
        reminders.values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    others = Notification.objects.exclude(kind=REMINDER_KIND).count()
    times = reminders.aggregate(
        created_first=Min("created_at"),
        created_last=Max("created_at"),
        queued_first=Min("queued_at"),
        queued_last=Max("queued_at"),
        sent_first=Min("sent_at"),
        sent_last=Max("sent_at"),
        attempts=Max("attempts"),
    )
    planned = SessionReminder.objects.aggregate(t=Min("planned_at"))["t"]
    message_ids = dict(
        reminders.filter(status="sent").values_list("recipient", "message_id")
    )
    connections.close_all()
    return {
        "by_status": by_status,
        "others": others,
        "times": times,
        "planned": planned,
        "message_ids": message_ids,
    }


# --------------------------------------------------------------------------------------
# Checks and the ceiling
# --------------------------------------------------------------------------------------


class Checks:
    def __init__(self) -> None:
        self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        print(
            f"  {'PASS' if ok else 'FAIL'}  {name}"
            + (f" ({detail})" if detail else ""),
            flush=True,
        )
        self.failed += not ok
        return ok


def check_delivery(
    checks: Checks,
    recipients: set[str],
    arrivals: list[tuple[float, str, str]],
    rows: dict[str, Any],
) -> None:
    per_rcpt = Counter(rcpt for _t, rcpt, _m in arrivals)
    missing = [r for r in recipients if per_rcpt[r] == 0]
    duplicated = [r for r, n in per_rcpt.items() if n > 1]
    strangers = [r for r in per_rcpt if r not in recipients]
    checks.check(
        "every recipient got exactly one reminder",
        not missing
        and not duplicated
        and not strangers
        and len(arrivals) == len(recipients),
        f"{len(recipients)} recipients, {len(arrivals)} messages, {len(missing)} missing, "
        f"{len(duplicated)} with more than one, {len(strangers)} unexpected recipients"
        + (
            f"; e.g. {(missing + duplicated + strangers)[:3]}"
            if missing or duplicated or strangers
            else ""
        ),
    )
    sent = rows["by_status"].get("sent", 0)
    checks.check(
        "every reminder row is marked sent, and no other email was written",
        sent == len(recipients)
        and sum(rows["by_status"].values()) == sent
        and rows["others"] == 0,
        f"reminder rows by status {rows['by_status']}, other rows {rows['others']}",
    )
    ids = rows["message_ids"]
    wrong = [rcpt for _t, rcpt, mid in arrivals if ids.get(rcpt) != mid]
    checks.check(
        "each message received is the one its row names (Message-ID)",
        not wrong,
        f"{len(wrong)} differ" + (f", e.g. {wrong[:3]}" if wrong else ""),
    )


def ceiling_run(
    sink: Sink, messages: list[tuple[str, list[str], bytes]]
) -> tuple[float, dict[str, float]]:
    """One plain smtplib loop over one connection; returns (seconds, cpu)."""
    sink.ask("reset")
    meter = CpuMeter(
        {
            "smtplib loop (this process)": lambda: [os.getpid()],
            "sink": lambda: [sink.pid],
        }
    )
    meter.start()
    t0 = time.perf_counter()
    smtp = smtplib.SMTP(HOST, sink.port, timeout=30)
    for mail_from, rcpt_tos, content in messages:
        smtp.sendmail(mail_from, rcpt_tos, content)
    smtp.quit()
    seconds = time.perf_counter() - t0
    cpu = meter.stop()
    received = sink.ask("stats")[0]
    if received != sum(len(m[1]) for m in messages):
        raise BenchError(
            f"the ceiling run delivered {received} of {len(messages)} messages"
        )
    return seconds, cpu


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------


def wait_for_delivery(
    args: argparse.Namespace,
    sink: Sink,
    worker: Celery,
    beat: Celery,
    due: float,
    meter: CpuMeter,
    on_ready: Any,
) -> dict[str, Any]:
    deadline = time.monotonic() + args.deliver_timeout
    ready_at = None
    next_report = time.monotonic() + 5
    count = 0
    while time.monotonic() < deadline:
        if ready_at is None and " ready." in worker.output():
            ready_at = time.time()
            on_ready()
        meter.sample()
        for process in (worker, beat):
            if process.process is not None and process.process.poll() is not None:
                raise BenchError(
                    f"celery {process.kind} exited:\n{process.output()[-3000:]}"
                )
        count, _first, _last = sink.ask("stats")
        if count >= args.count:
            return {"ready_at": ready_at, "complete": True}
        if time.monotonic() >= next_report:
            log(f"  {count} reminders received, {time.time() - due:.1f} s after due")
            next_report += 5
        time.sleep(0.1)
    return {"ready_at": ready_at, "complete": False, "count": count}


def start_profiler(args: argparse.Namespace, worker: Celery) -> subprocess.Popen | None:
    if not args.profile:
        return None
    binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(binary).exists():
        raise BenchError("--profile needs py-spy (pip install py-spy)")
    assert worker.process is not None
    out = Path(args.profile)
    out.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(worker.process.pid),
            "--subprocesses",
            "--format",
            "raw",
            "--rate",
            "100",
            "--idle",
            "--nonblocking",
            "--output",
            str(out / "worker.txt"),
        ],
        stdout=(out / "py-spy.log").open("ab"),
        stderr=subprocess.STDOUT,
    )


def stop_profiler(profiler: subprocess.Popen | None, args: argparse.Namespace) -> None:
    if profiler is None:
        return
    profiler.send_signal(signal.SIGINT)
    try:
        profiler.wait(timeout=30)
    except subprocess.TimeoutExpired:
        profiler.kill()
        profiler.wait(timeout=10)
    log(f"py-spy stacks in {Path(args.profile) / 'worker.txt'}")


def at(moment: dt.datetime | None, due: float) -> str:
    return "n/a" if moment is None else f"{moment.timestamp() - due:6.2f} s"


def growth(args: argparse.Namespace, argv: list[str]) -> int:
    """One run per size, each in a process of its own and bounded in time; then a
    table of what grows: seconds, CPU and peak memory per reminder."""
    passed = []
    skip_next = False
    for option in argv:  # the options of a single run, less the growth ones
        if skip_next:
            skip_next = False
            continue
        name = option.split("=", 1)[0]
        if name in ("--growth",):
            continue
        if name in (
            "--sizes",
            "--size-timeout",
            "--count",
            "--result-json",
            "--timeout",
        ):
            skip_next = "=" not in option
            continue
        passed.append(option)
    results: list[dict[str, Any]] = []
    status = 0
    tmp = Path(tempfile.mkdtemp(prefix="podium-bench-growth-"))
    try:
        for size in args.size_list:
            out = tmp / f"{size}.json"
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                *passed,
                "--count",
                str(size),
                "--timeout",
                str(args.size_timeout),
                "--result-json",
                str(out),
            ]
            if "--ceiling-runs" not in " ".join(passed):
                command += ["--ceiling-runs", "1"]
            if "--deliver-timeout" not in " ".join(passed):
                command += ["--deliver-timeout", str(max(60, args.size_timeout - 240))]
            log(f"growth: {size} reminders: {' '.join(command[2:])}")
            started = time.monotonic()
            try:
                code = subprocess.run(
                    command, cwd=ROOT, timeout=args.size_timeout + 60
                ).returncode
            except subprocess.TimeoutExpired:
                code = 3
            wall = time.monotonic() - started
            if not out.exists():
                log(f"growth: {size} reminders: no result (exit {code}, {wall:.0f} s)")
                results.append({"count": size, "missing": True, "exit": code})
                status = max(status, 1 if code in (0, 1, 2) else 3)
                break
            result = json.loads(out.read_text())
            result["exit"] = code
            results.append(result)
            if code == 1 or not result["complete"]:
                status = max(status, 1)
                break  # a size that failed or ran over: larger ones would too
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("Growth (each size a fresh run; per reminder: due -> last delivery, CPU of")
    print("worker pool and PostgreSQL; memory: the largest pool process's peak RSS)")
    print(
        f"  {'reminders':>9}  {'emails/s':>8}  {'due->last':>9}  {'ms/email':>8}  "
        f"{'pool CPU':>8}  {'pg CPU':>7}  {'first':>6}  {'ratio':>5}  {'pool MB':>7}  "
        f"{'other':>5}  checks"
    )
    base = None
    for r in results:
        if r.get("missing"):
            print(
                f"  {r['count']:>9}  no result (exit {r['exit']}): over time or failed"
            )
            continue
        n = r["count"]
        cpu = r["cpu"]
        per = r["seconds"] / n * 1000
        pool = cpu.get("worker pool", 0.0) / n * 1000
        pg = cpu.get("postgres", 0.0) / n * 1000
        other = cpu.get("everything else", 0.0) / max(r["seconds"], 1e-9)
        ratio = f"{r['ratio']:.3f}" if r.get("ratio") else "  n/a"
        first = f"{r['first']:5.1f}s" if r.get("first") is not None else "   n/a"
        state = "PASS" if not r["checks_failed"] and r["complete"] else "FAIL"
        print(
            f"  {n:>9}  {r['rate']:8.1f}  {r['seconds']:8.1f}s  {per:8.2f}  "
            f"{pool:6.2f}ms  {pg:5.2f}ms  {first}  {ratio}  {r['memory']['pool']:7.0f}  "
            f"{other:5.2f}  {state}"
        )
        if base is None:
            base = (n, per, pool, r["memory"]["pool"])
    done = [r for r in results if not r.get("missing")]
    if base and len(done) > 1:
        last = done[-1]
        n = last["count"]
        per = last["seconds"] / n * 1000
        pool = last["cpu"].get("worker pool", 0.0) / n * 1000
        print(
            f"  from {base[0]} to {n} reminders ({n / base[0]:.0f}x): time per email x"
            f"{per / base[1]:.2f}, pool CPU per email x{pool / max(base[2], 1e-9):.2f}, "
            f"pool peak memory x{last['memory']['pool'] / max(base[3], 1e-9):.2f} "
            "(linear growth: all about x1; 'other' = cores other work took)"
        )
    return status


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.growth:
        return growth(args, argv)

    def interrupt(signum: int, frame: Any) -> None:
        raise Interrupted(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(args.timeout)

    tmp = Path(tempfile.mkdtemp(prefix="podium-bench-email-"))
    sink = Sink()
    redis = Redis()
    env = django_env(args, redis.port, sink.port)
    worker = Celery("worker", args, env, tmp)
    beat = Celery("beat", args, env, tmp)
    profiler: subprocess.Popen | None = None
    checks = Checks()
    db_created = False
    batch = args.batch_size or "50 (default)"
    try:
        log(f"database {args.db}: drop, create, migrate")
        database_recreate(args)
        db_created = True
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=300,
        )
        django_setup(env)
        t0 = time.perf_counter()
        seeded = seed(args.count, warm=args.warm)
        log(
            f"{args.count} confirmed registrations in session {seeded['session']} "
            f"({time.perf_counter() - t0:.1f} s), reminder {OFFSET_MINUTES} min before it"
        )
        from django.db import connections

        connections.close_all()

        sink.start()
        redis.start()
        log(
            f"SMTP sink (aiosmtpd, pid {sink.pid}) on {HOST}:{sink.port}; redis-server on {HOST}:{redis.port}"
        )
        busy = machine_busy()
        if busy > 0.2:
            log(
                f"WARNING: {busy:.2f} cores were busy with other work just before the run; "
                "the numbers below are disturbed"
            )

        meter = CpuMeter(
            {
                "worker pool": worker.children,
                "worker main": lambda: [worker.process.pid] if worker.process else [],
                "beat": lambda: [beat.process.pid] if beat.process else [],
                "postgres": lambda: postgres_pids(args.db),
                "redis": lambda: [redis.process.pid] if redis.process else [],
                "sink": lambda: [sink.pid],
            }
        )
        if args.warm:
            worker.start()
            beat.start()
            deadline = time.monotonic() + 60
            while " ready." not in worker.output():
                if time.monotonic() > deadline or (
                    worker.process and worker.process.poll() is not None
                ):
                    raise BenchError(
                        f"the worker did not get ready:\n{worker.output()[-3000:]}"
                    )
                time.sleep(0.1)
            time.sleep(2)  # beat's first ticks, the pool's processes up
            profiler = start_profiler(args, worker)
            meter.start()
            due = make_due(seeded["session"])
            connections.close_all()
            log(
                f"worker and beat ready; the reminder falls due now; batch size {batch}"
            )
        else:
            meter.start()
            due = time.time()
            worker.start()
            beat.start()
            log(
                f"reminder due; worker ({args.concurrency} processes) and beat started; batch size {batch}"
            )

        def on_ready() -> None:
            nonlocal profiler
            if profiler is None:
                profiler = start_profiler(args, worker)  # cold runs: from readiness on

        outcome = wait_for_delivery(args, sink, worker, beat, due, meter, on_ready)
        _count, first, last = sink.ask("stats")
        cpu = meter.stop()
        stop_profiler(profiler, args)
        profiler = None
        if not outcome["complete"]:
            log(
                f"TIMEOUT: {outcome['count']} of {args.count} reminders after {args.deliver_timeout:.0f} s"
            )
        time.sleep(args.settle)
        arrivals = sink.ask("arrivals")
        rows = outbox_rows()
        memory = {
            "pool": peak_rss_mb(worker.children()),
            "main": peak_rss_mb([worker.process.pid] if worker.process else []),
            "beat": peak_rss_mb([beat.process.pid] if beat.process else []),
        }
        # Read before stopping: a shutdown has nothing to say about the delivery.
        errors = [
            line
            for line in worker.output().splitlines()
            if " ERROR" in line or "Traceback" in line
        ]
        worker.stop()
        beat.stop()

        print("Checks:")
        check_delivery(checks, seeded["recipients"], arrivals, rows)
        checks.check("no errors in the worker log", not errors, "; ".join(errors[:3]))

        log(
            "ceiling: the same messages, one smtplib loop over one connection to the same sink"
        )
        messages = sink.ask("messages", timeout=120) if args.ceiling_runs else []
        ceilings = []
        for k in range(args.ceiling_runs):
            seconds, ceiling_cpu = ceiling_run(sink, messages)
            ceilings.append(seconds)
            log(
                f"  run {k + 1}: {len(messages)} messages in {seconds:.2f} s "
                f"({len(messages) / seconds:.0f} emails/s); CPU {describe_cpu(ceiling_cpu)}"
            )
        sizes = [len(m[2]) for m in messages] or [0]
        del messages

        times = rows["times"]
        elapsed = (last - due) if last else float("nan")
        rate = len(arrivals) / elapsed if last else 0.0
        ceiling_seconds = statistics.median(ceilings) if ceilings else float("nan")
        ceiling = args.count / ceiling_seconds
        ratio = rate / ceiling
        steady = (
            (len(arrivals) - 1) / (last - first)
            if last and first and last > first
            else float("nan")
        )
        print()
        print("Timeline (seconds after due):")
        if outcome["ready_at"] and not args.warm:
            print(
                f"  worker ready                      {outcome['ready_at'] - due:6.2f} s"
            )
        print(f"  first outbox row inserted         {at(times['created_first'], due)}")
        print(f"  last outbox row inserted          {at(times['created_last'], due)}")
        print(f"  reminders planned (all chunks)    {at(rows['planned'], due)}")
        print(f"  first rows queued (dispatch run)  {at(times['queued_first'], due)}")
        print(f"  last rows queued (dispatch run)   {at(times['queued_last'], due)}")
        print(
            f"  first delivery at the sink        {first - due if first else float('nan'):6.2f} s"
        )
        print(f"  last delivery at the sink         {elapsed:6.2f} s")
        print(f"  max attempts per row              {times['attempts']}")
        print(f"CPU during the fan-out {describe_cpu(cpu)}")
        print(
            f"Peak memory (VmHWM): pool process {memory['pool']:.0f} MB, "
            f"worker main {memory['main']:.0f} MB, beat {memory['beat']:.0f} MB"
        )
        print(
            f"Message size: median {statistics.median(sizes):.0f} bytes, total {sum(sizes) / 1e6:.1f} MB"
        )
        print()
        mode = (
            "warm: processes up before due"
            if args.warm
            else "cold: due when worker and beat start"
        )
        print(
            f"Summary ({args.count} reminders, {args.concurrency} worker processes, batch {batch}, "
            f"dispatch every {args.dispatch_interval:g} s; {mode})"
        )
        print(
            f"  emails/s                    {rate:8.1f}   ({len(arrivals)} / {elapsed:.2f} s from due)"
        )
        print(f"  due -> last delivery        {elapsed:8.2f} s")
        print(
            f"  first -> last delivery      {steady:8.1f} emails/s (delivery phase only)"
        )
        print(
            f"  ceiling (smtplib loop)      {ceiling:8.1f} emails/s   (median of {len(ceilings)}: "
            f"{', '.join(format(args.count / s, '.0f') for s in ceilings)}; one connection, same sink)"
        )
        print(f"  ratio                       {ratio:8.3f}")
        print(
            f"  target ratio >= {TARGET_RATIO}: {'MET' if ratio >= TARGET_RATIO else 'MISSED'}"
        )
        print(
            f"  checks: {'all PASS' if not checks.failed else f'{checks.failed} FAIL'}"
        )
        if args.result_json:
            Path(args.result_json).write_text(
                json.dumps(
                    {
                        "count": args.count,
                        "complete": outcome["complete"],
                        "received": len(arrivals),
                        "seconds": elapsed,
                        "rate": rate,
                        "steady": steady,
                        "first": (first - due) if first else None,
                        "ceiling": ceiling if ceilings else None,
                        "ratio": ratio if ceilings else None,
                        "cpu": cpu,
                        "memory": memory,
                        "checks_failed": checks.failed,
                        "busy_before": busy,
                    }
                )
            )
        if checks.failed:
            return 1
        if args.strict and ratio < TARGET_RATIO:
            return 2
        return 0
    except (
        BenchError,
        subprocess.CalledProcessError,
        subprocess.TimeoutExpired,
        OSError,
        EOFError,  # the sink process is gone
    ) as exc:
        print(f"ERROR: the benchmark could not run: {exc!r}", file=sys.stderr)
        for process in (worker, beat):
            if process.log_path.exists():
                print(
                    f"celery {process.kind} log (tail):\n{process.output()[-3000:]}",
                    file=sys.stderr,
                )
        return 3
    except (Interrupted, KeyboardInterrupt) as exc:
        print(f"ERROR: interrupted ({exc or 'Ctrl-C'}), cleaning up", file=sys.stderr)
        return 3
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # finish cleaning up
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with contextlib.suppress(Exception):
            stop_profiler(profiler, args)
        for stop in (worker.stop, beat.stop, sink.stop, redis.stop):
            try:
                stop()
            except Exception as exc:
                print(f"cleanup: {exc!r}", file=sys.stderr)
        if db_created and not args.keep_db:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            try:
                database_drop(args)
            except Exception as exc:
                print(f"could not drop {args.db}: {exc}", file=sys.stderr)
        if args.keep_files:
            print(f"files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Real processes for the mail tests: a Redis server, a Celery worker and beat."""

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .mailsink import free_port

ROOT = Path(__file__).resolve().parent.parent


class RedisServer:
    """A redis-server of the test's own, which the test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: _port_answers(self.port), timeout=10, what="redis-server")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def _port_answers(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def readme_command(program: str) -> list[str]:
    """The command line the README's operator's run gives for ``program``."""
    readme = (ROOT / "README.md").read_text()
    for line in readme.splitlines():
        if line.startswith(program):
            return shlex.split(line)
    raise AssertionError(f"the README gives no `{program}` command")


class CeleryProcess:
    """``celery -A config worker`` or ``beat`` as an operator runs it, in its own group.

    ``readme=True`` runs the worker with the README's own command line, word for word.
    """

    def __init__(self, kind: str, env: dict[str, str], *, readme: bool = False) -> None:
        self.kind = kind
        self.env = env
        self.readme = readme
        self.process: subprocess.Popen | None = None
        self.directory = Path(tempfile.mkdtemp(prefix=f"celery-{kind}-"))
        self.log_path = self.directory / "output.log"
        self.schedule = str(self.directory / "celerybeat-schedule")

    def command(self) -> list[str]:
        base = [sys.executable, "-m", "celery", "-A", "config"]
        if self.readme:
            words = readme_command(f"celery -A config {self.kind}")
            assert words[:3] == ["celery", "-A", "config"], words
            return [*base, *words[3:]]
        if self.kind == "worker":
            return [
                *base,
                "worker",
                "--queues",
                "celery,mail",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ]
        return [*base, "beat", "--loglevel", "INFO", "--schedule", self.schedule]

    def start(self) -> "CeleryProcess":
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Ends the process and its children at once (SIGKILL: no goodbye)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.kill(signal.SIGTERM if self.kind == "beat" else signal.SIGKILL)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists() and (
        os.geteuid() != 0 or shutil.which("runuser") is not None
    )


class PostgresServer:
    """A PostgreSQL cluster of the test's own (initdb in a temp dir, a free port).

    The test may restart it under load; the machine's shared server is never touched.
    As root, the server runs as the ``postgres`` user (PostgreSQL refuses root).
    The superuser is ``podium``, trusted on 127.0.0.1 only.
    """

    user = "podium"

    def __init__(self) -> None:
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="podium-pg-"))
        self.data = self.directory / "data"
        self.log_path = self.directory / "server.log"

    def url(self, database: str = "podium") -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, check=check, timeout=120
        )

    def init(self) -> "PostgresServer":
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        return self

    def start(self) -> "PostgresServer":
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "-w",
            "start",
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stops the server: ``fast`` ends every session, as an operator's restart does."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str = "podium") -> str:
        self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name
        )
        return self.url(name)

    def destroy(self) -> None:
        self.stop(mode="immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


class WebServer:
    """Podium under gunicorn, as the README runs it, on a free port."""

    def __init__(self, env: dict[str, str], *, workers: int = 2) -> None:
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.directory = Path(tempfile.mkdtemp(prefix="podium-web-"))
        self.log_path = self.directory / "output.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "WebServer":
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "30",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: _port_answers(self.port), timeout=30, what="gunicorn")
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        self.process = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def manage(env: dict[str, str], *args: str) -> str:
    """Runs ``manage.py`` with ``env``; returns what it printed."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def service_environment(
    *, database_url: str, broker_url: str, email_url: str, **extra: str
) -> dict[str, str]:
    """The environment of Podium's own processes in a test: fast timers, no leftovers.

    Variables of the test run itself (DJANGO_*, CELERY_*, ...) are dropped, so that
    each process reads exactly what the test gives it.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "DJANGO_",
                "CELERY_",
                "NOTIFICATIONS_",
                "DATABASE_",
                "REDIS_",
                "REGISTRATION_",
            )
        )
    }
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SECRET_KEY=os.environ.get(
            "DJANGO_SECRET_KEY",
            "test-only-secret-key-not-for-production-use-0123456789",
        ),
        CELERY_BROKER_URL=broker_url,
        EMAIL_URL=email_url,
        NOTIFICATIONS_DISPATCH_INTERVAL="1",
        NOTIFICATIONS_REQUEUE_AFTER="3",
        NOTIFICATIONS_STALE_AFTER="6",
        NOTIFICATIONS_RETRY_BASE="1",
        NOTIFICATIONS_MAX_ATTEMPTS="30",
        NOTIFICATIONS_BATCH_SIZE="20",
        DATABASE_CONN_MAX_AGE="0",
        REGISTRATION_RATE_LIMIT="",
    )
    env.update(extra)
    return env

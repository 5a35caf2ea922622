"""Real processes for the mail tests: a Redis server, a Celery worker and beat."""

import contextlib
import os
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


class CeleryProcess:
    """``celery -A config worker`` or ``beat`` as an operator runs it, in its own group."""

    def __init__(self, kind: str, env: dict[str, str]) -> None:
        self.kind = kind
        self.env = env
        self.process: subprocess.Popen | None = None
        self.directory = Path(tempfile.mkdtemp(prefix=f"celery-{kind}-"))
        self.log_path = self.directory / "output.log"
        self.schedule = str(self.directory / "celerybeat-schedule")

    def command(self) -> list[str]:
        base = [sys.executable, "-m", "celery", "-A", "config"]
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

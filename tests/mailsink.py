"""A real SMTP server for the tests (aiosmtpd), keeping what it receives."""

import asyncio
import email
import email.policy
import logging
import socket
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# aiosmtpd logs every SMTP command at INFO: thousands of lines in a failing test.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, sink: "MailSink") -> None:
        self.sink = sink

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list,
    ) -> str:
        if address.startswith("bounce"):
            return "550 5.1.1 No such mailbox"
        if address.startswith("busy"):
            return "451 4.3.0 Try again later"
        answer = self.sink.answer(address)
        if answer:
            with self.sink.lock:
                self.sink.refused.append((address, answer))
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        with self.sink.lock:
            for rcpt in envelope.rcpt_tos:
                self.sink.messages.append((rcpt, message))
        return "250 Message accepted"


class MailSink:
    """Start, stop and start again on the same port, like a mail server going down.

    ``delay`` slows every accepted message down (a slow server, to catch a worker
    mid-batch); ``answers`` maps an address to the SMTP reply refusing it (``"*"``
    for every address), and can change while the sink runs.
    """

    def __init__(self, port: int | None = None, *, delay: float = 0) -> None:
        self.port = port or free_port()
        self.delay = delay
        self.answers: dict[str, str] = {}
        self.messages: list[tuple[str, EmailMessage]] = []
        self.refused: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    def answer(self, address: str) -> str:
        with self.lock:
            return self.answers.get(address) or self.answers.get("*", "")

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "MailSink":
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for rcpt, m in self.messages if rcpt == address]

    def all(self) -> list[tuple[str, EmailMessage]]:
        with self.lock:
            return list(self.messages)

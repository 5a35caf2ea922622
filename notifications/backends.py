"""The demo's email backend: every message to ``var/mail/`` and a line on the console."""

import sys
from collections.abc import Sequence
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.utils import timezone


class FileAndConsoleBackend(BaseEmailBackend):
    """Writes each message as a ``.eml`` file a mail program opens, and says so."""

    def __init__(self, *args: Any, file_path: str | None = None, **kwargs: Any) -> None:
        kwargs.pop("timeout", None)
        super().__init__(*args, **kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            mime = message.message()
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
            path = (
                self.directory / f"{stamp}-{abs(hash(mime['Message-ID'])) % 10**8}.eml"
            )
            path.write_bytes(mime.as_bytes())
            subject = str(make_header(decode_header(mime["Subject"] or "")))
            sys.stdout.write(
                f"[mail] to {', '.join(message.recipients())}: {subject} -> {path}\n"
            )
            sys.stdout.flush()
            sent += 1
        return sent

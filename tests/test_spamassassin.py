"""Every kind of email Podium sends, in both languages, as SpamAssassin scores it.

The emails are made by the services that send them and delivered through the
worker's path (``notifications_deliver``); their bytes are what SMTP would carry.
One ``spamassassin --mbox`` process, local tests only (no network), scores them
all; each must stay below 1.0 (5.0 is SpamAssassin's spam threshold).
"""

import mailbox
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from .conftest import require
from .mail_kinds import KINDS, SHORT_TEXTS, every_mail, texts

pytestmark = pytest.mark.django_db

LIMIT = 1.0
SPAMASSASSIN = shutil.which("spamassassin") or "/usr/bin/spamassassin"


@pytest.fixture(autouse=True)
def _mail(settings, tmp_path) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def pinned_tokens(monkeypatch) -> None:
    """Django's password-reset and invitation tokens end in 32 random hex digits.

    About one token in sixty starts with 1 or 3 and holds no 0, and SpamAssassin
    takes it for a Bitcoin address (PDS_BTC_ID, 1.0): pinned here, so that the
    score tested is the email's, not the token's luck.
    """
    from django.contrib.auth.tokens import PasswordResetTokenGenerator

    drawn = PasswordResetTokenGenerator._make_token_with_timestamp

    def pinned(self, user, timestamp, secret=None, **kwargs):
        stamp = drawn(self, user, timestamp, secret, **kwargs).split("-")[0]
        return f"{stamp}-{'0a' * 16}"

    monkeypatch.setattr(
        PasswordResetTokenGenerator, "_make_token_with_timestamp", pinned
    )


def spam_scores(messages: dict[str, bytes], home: Path) -> dict[str, tuple[float, str]]:
    """``{name: (score, rules)}`` of raw messages, from one spamassassin process."""
    path = home / "mail.mbox"
    box = mailbox.mbox(str(path))
    names = {}
    for name, raw in messages.items():
        message = mailbox.mboxMessage(raw)
        message.set_from("podium@localhost", time.gmtime())
        box.add(message)
        names[message["Message-ID"]] = name
    box.flush()
    box.close()
    result = subprocess.run(
        [
            SPAMASSASSIN,
            "--local",
            "--mbox",
            # No learning from the messages scored: every run scores the same.
            "--cf=bayes_auto_learn 0",
            "--cf=use_bayes 0",
        ],
        stdin=path.open("rb"),
        capture_output=True,
        timeout=300,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        check=True,
    )
    scored = home / "scored.mbox"
    scored.write_bytes(result.stdout)
    scores = {}
    for message in mailbox.mbox(str(scored)):
        status = " ".join(str(message["X-Spam-Status"]).split())
        found = re.search(r"score=(-?[\d.]+).*?tests=(.*?)(?: autolearn=|$)", status)
        assert found, status
        rules = found[2].replace(" ", "")
        scores[names[message["Message-ID"]]] = (float(found[1]), rules)
    assert set(scores) == set(messages), "spamassassin scored every message"
    return scores


def test_the_catalogue_holds_every_email_podium_sends() -> None:
    """Each email template (its subject) is a kind the SpamAssassin test sends."""
    folders = [
        Path(settings.BASE_DIR) / "events/templates/events/email",
        Path(settings.BASE_DIR) / "awards/templates/awards/email",
        Path(settings.BASE_DIR) / "templates/registration/email",
    ]
    templates = {
        path.name.removesuffix("_subject.txt")
        for folder in folders
        for path in folder.glob("*_subject.txt")
    }
    assert templates == set(KINDS)


def test_every_email_scores_below_one_in_both_languages(
    pinned_tokens, tmp_path
) -> None:
    require(Path(SPAMASSASSIN).exists(), "spamassassin")
    messages = {}
    for language in ("en", "zh-hans"):
        delivered = every_mail(language)
        assert set(delivered) == set(KINDS), f"every kind was sent in {language}"
        for kind, message in delivered.items():
            messages[f"{kind} ({language})"] = message.message().as_bytes()
        # An image beside too little HTML is what SpamAssassin flags: the emails
        # of an event whose texts are as short as can be, too.
        with texts(SHORT_TEXTS):
            delivered = every_mail(language, tag=f"short-{language}")
        for kind, message in delivered.items():
            messages[f"{kind} ({language}, short texts)"] = message.message().as_bytes()
    scores = spam_scores(messages, tmp_path)
    report = "\n".join(
        f"{score:5.1f}  {name}  {rules}"
        for name, (score, rules) in sorted(scores.items())
    )
    print(report)
    assert all(score < LIMIT for score, _rules in scores.values()), report
    # What the confirmation scored before (3.0): an image beside too little HTML,
    # and a To header without a name in brackets.
    flagged = {"HTML_IMAGE_ONLY", "TO_NO_BRKTS", "MISSING_", "MSGID", "DATE"}
    for name, (_score, rules) in scores.items():
        assert not any(flag in rules for flag in flagged), (name, rules)

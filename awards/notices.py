"""Award mail: the award notice (congratulations, the certificate link, the
ceremony invitation) and the judges' invitation and reminder, each in its
reader's language with the event's branding.
"""

import uuid
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext

from events.notices import branding, ics_language, logo_recipe, mail_language
from notifications.ics import calendar_file
from notifications.services import Email, sender_address, sender_name

from .models import AwardBatch, Certificate, Nomination, Review
from .tokens import account_serves_one_event, judge_invitation_token


def award_notices(batch: AwardBatch, certificates: list[Certificate]) -> list[Email]:
    """The award notice of each certificate whose recipient has an address, in the
    recipient's language: names, titles and venue in it, else in the other one."""
    event = batch.category.event
    ceremony = batch.ceremony_session
    emails = []
    for certificate in certificates:
        recipient = certificate.nomination.recipient
        if not recipient.email:
            continue
        language = mail_language(recipient.language)
        verify_url = settings.SITE_URL + reverse(
            "awards:verify", kwargs={"number": certificate.number}
        )
        with translation.override(language):
            context: dict[str, object] = {
                "full_name": recipient.name,
                "award_title": batch.title,
                "category_name": batch.category.name,
                "event_title": event.title,
                "certificate_number": certificate.number,
                "verify_url": verify_url,
                "timezone": event.timezone,
                **branding(event),
            }
            attachments = []
            if ceremony is not None and not ceremony.is_cancelled:
                venue = ceremony.venue or event.venue
                location = f"{venue.name}, {venue.address}".strip(", ") if venue else ""
                context.update(
                    session_title=ceremony.title,
                    starts_at=ceremony.starts_at.isoformat(),
                    ends_at=ceremony.ends_at.isoformat(),
                    venue_name=venue.name if venue else "",
                    venue_address=venue.address if venue else "",
                )
                ics = calendar_file(
                    uid=f"session-{ceremony.pk}-certificate-{certificate.number}@podium",
                    sequence=ceremony.sequence,
                    starts_at=ceremony.starts_at,
                    ends_at=ceremony.ends_at,
                    summary=gettext("%(event)s: %(session)s")
                    % {"event": event.title, "session": ceremony.title},
                    location=location,
                    description=(
                        f"{gettext('Certificate number:')} {certificate.number}\n"
                        f"{gettext('Verify the certificate:')} {verify_url}"
                    ),
                    url=verify_url,
                    organizer_name=event.organiser_name or sender_name(),
                    organizer_email=sender_address(),
                    language=ics_language(language),
                )
                attachments.append(
                    {
                        "filename": "ceremony.ics",
                        "mimetype": "text/calendar; method=PUBLISH",
                        "content": ics.decode(),
                    }
                )
        emails.append(
            Email(
                kind="award_announced",
                to=recipient.email,
                to_name=str(context["full_name"]),
                from_name=str(context["organiser_name"]),
                template="awards/email/award_announced",
                dedupe_key=f"award_announced:certificate:{certificate.pk}",
                context=context,
                language=language,
                about=("awards.certificate", str(certificate.pk)),
                scope=f"event:{event.pk}",
                attachments=[*attachments, *logo_recipe(event)],
            )
        )
    return emails


def _may_get_password_link(judge: Any, batch: AwardBatch) -> bool:
    """Whether this batch's organisers may mail the judge a set-password link.

    Only an account that has never been used and exists for this event alone gets
    one (awards.tokens); anyone else gets the sign-in page, which offers a password
    reset by mail. The link is hidden from the organisers' view of the outbox, and
    stops working if the account gains any other role.
    """
    return (
        account_serves_one_event(judge)
        and not judge.judged_batches.exclude(
            category__event_id=batch.category.event_id
        ).exists()
    )


def judge_link(judge: Any, batch: AwardBatch) -> tuple[str, bool]:
    """The judge's way to the judging page: (absolute URL, whether it sets a password).

    A set-password link carries Django's password-reset token, which stops working
    once the password is set (or the judge signs in) and after PASSWORD_RESET_TIMEOUT.
    """
    judging = reverse("awards:judging", kwargs={"batch_id": batch.pk})
    if _may_get_password_link(judge, batch):
        path = reverse(
            "awards:judge_welcome",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(judge.pk)),
                "token": judge_invitation_token.make_token(judge),
            },
        )
        return f"{settings.SITE_URL}{path}?{urlencode({'batch': batch.pk})}", True
    login = reverse("login")
    return f"{settings.SITE_URL}{login}?{urlencode({'next': judging})}", False


def _judge_context(judge: Any, batch: AwardBatch) -> dict[str, object]:
    """What a judge's email shows, in the active language."""
    link, sets_password = judge_link(judge, batch)
    open_nominations = batch.nominations.exclude(status=Nomination.Status.WITHDRAWN)
    event = batch.category.event
    return {
        "event_title": event.title,
        "batch_title": batch.title,
        "category_name": batch.category.name,
        "link_url": link,
        "sets_password": sets_password,
        # The link opens the account: shown to nobody but the judge's own inbox.
        "private": ["link_url"] if sets_password else [],
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        "total": open_nominations.count(),
        "scored": Review.objects.filter(
            judge=judge, nomination__in=open_nominations
        ).count(),
        "email": judge.email or judge.get_username(),
        **branding(event),
    }


def _judge_email(
    judge: Any, batch: AwardBatch, language: str, *, kind: str, dedupe_key: str
) -> Email:
    language = mail_language(language)
    with translation.override(language):
        context = _judge_context(judge, batch)
    return Email(
        kind=kind,
        to=judge.email or judge.get_username(),
        to_name=judge.get_full_name(),
        from_name=str(context["organiser_name"]),
        template=f"awards/email/{kind}",
        dedupe_key=dedupe_key,
        context=context,
        language=language,
        about=("auth.user", str(judge.pk)),
        scope=f"event:{batch.category.event_id}",
        attachments=logo_recipe(batch.category.event),
    )


def judge_invitation(judge: Any, batch: AwardBatch, language: str) -> Email:
    """The invitation to judge a batch; one per judge and batch."""
    return _judge_email(
        judge,
        batch,
        language,
        kind="judge_invited",
        dedupe_key=f"judge_invited:batch:{batch.pk}:user:{judge.pk}",
    )


def judge_reminder(judge: Any, batch: AwardBatch, language: str) -> Email:
    """A reminder to score; each one the organiser sends is its own cause."""
    return _judge_email(
        judge,
        batch,
        language,
        kind="judge_reminded",
        dedupe_key=f"judge_reminded:batch:{batch.pk}:user:{judge.pk}:{uuid.uuid4().hex}",
    )

"""Every write of the awards workflow: one function per use case, each audited."""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from modeltranslation.utils import get_language

from config.l10n import LANGUAGE_SUFFIXES, language_column
from config.problems import ConflictError
from events.services import AttendeeData, registration_reserve
from notifications.models import Notification
from notifications.services import notifications_enqueue

from .errors import (
    AwardNotFound,
    BatchLocked,
    CertificateNotRevoked,
    DistrictInUse,
    DuplicateBatch,
    DuplicateReview,
    InvalidRunOfShow,
    InvalidTransition,
    NotAllowed,
    UndecidedNominations,
)
from .models import (
    AuditEntry,
    AwardBatch,
    AwardCategory,
    Certificate,
    District,
    Nomination,
    Recipient,
    Review,
)
from .selectors import order_by_run_of_show


def _audit(
    actor: Any, action: str, obj: Any, batch: AwardBatch | None, **detail: Any
) -> None:
    event_id = batch.category.event_id if batch else getattr(obj, "event_id", None)
    AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        event_id=event_id,
        batch=batch,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        detail=detail,
    )


RECIPIENT_TEXTS = ("name", "title", "affiliation", "street", "community")


@dataclass(frozen=True)
class RecipientData:
    """Who is nominated. A plain text (``name``) is in the reader's language;
    ``texts`` holds values for one language (``{"name_zh_hans": "湾头社区"}``),
    which win over the plain one. ``district`` is a name in either language."""

    kind: str
    name: str = ""
    title: str = ""
    affiliation: str = ""
    district: str = ""
    street: str = ""
    community: str = ""
    email: str = ""
    language: str = "zh-hans"
    texts: dict[str, str] = dataclass_field(default_factory=dict)
    # A district of the event's list chosen by its id (the console's choice).
    district_id: int | None = None


# pg_advisory_xact_lock(key, event id): one writer at a time of an event's districts.
_DISTRICT_LOCK = 7302


def names_of(obj: Any, name: str = "name") -> dict[str, str]:
    """A translated text's value per language column: {"en": ..., "zh_hans": ...}
    (the audit log records texts so, and shows each reader theirs)."""
    return {
        suffix: getattr(obj, f"{name}_{suffix}") or "" for suffix in LANGUAGE_SUFFIXES
    }


def _clean_name(name: str | None) -> str:
    return " ".join((name or "").split())


def _district_lock(event: Any) -> None:
    # SQLite (the one-command demo) writes one transaction at a time anyway.
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [_DISTRICT_LOCK, event.pk]
        )


def _districts_named(event: Any, names: dict[str, str]) -> Any:
    """The event's districts that bear any of the names (English in any case)."""
    match = Q()
    if names.get("en"):
        match |= Q(name_en__iexact=names["en"])
    if names.get("zh_hans"):
        match |= Q(name_zh_hans=names["zh_hans"])
    return District.objects.filter(event=event).filter(match).order_by("pk")


@transaction.atomic
def district_resolve(
    *, event: Any, name: str = "", name_en: str = "", name_zh_hans: str = ""
) -> District | None:
    """The event's district called by any of the names given, added to the event's
    list when it is new; None for no name at all.

    ``name`` is in either language (any Chinese character makes it Chinese);
    ``name_en`` and ``name_zh_hans`` say which. A name found by one language
    gives the district the other one when it has none yet; an existing name is
    only changed on the districts page.
    """
    names = {"en": _clean_name(name_en), "zh_hans": _clean_name(name_zh_hans)}
    plain = _clean_name(name)
    if plain:
        names[language_column(plain)] = names[language_column(plain)] or plain
        # A plain name is looked for in both columns: "Jiangbei District" may be
        # what someone wrote into the Chinese one.
        found = (
            District.objects.filter(event=event)
            .filter(Q(name_en__iexact=plain) | Q(name_zh_hans=plain))
            .order_by("pk")
            .first()
        )
    else:
        found = None
    if not any(names.values()):
        return None
    _district_lock(event)
    found = found or _districts_named(event, names).first()
    if found is None:
        return District.objects.create(
            event=event,
            name=names["en"] or names["zh_hans"],
            **{f"name_{suffix}": value or None for suffix, value in names.items()},
        )
    missing = [
        suffix
        for suffix, value in names.items()
        if value
        and not getattr(found, f"name_{suffix}")
        and not _districts_named(event, {suffix: value}).exclude(pk=found.pk).exists()
    ]
    for suffix in missing:
        setattr(found, f"name_{suffix}", names[suffix])
    if missing:
        found.save(update_fields=[f"name_{suffix}" for suffix in missing])
    return found


def _check_district_names(
    event: Any, names: dict[str, str], district: District | None = None
) -> None:
    if not any(names.values()):
        raise ValidationError(
            {"name_zh_hans": [_("Give the district a name in at least one language.")]}
        )
    for suffix, value in names.items():
        if not value:
            continue
        taken = _districts_named(event, {suffix: value})
        if district is not None:
            taken = taken.exclude(pk=district.pk)
        if taken.exists():
            raise ValidationError(
                {
                    f"name_{suffix}": [
                        _("Another district of this event is called %(name)s.")
                        % {"name": value}
                    ]
                }
            )


@transaction.atomic
def district_create(
    *, event: Any, name_en: str, name_zh_hans: str, actor: Any
) -> District:
    """Adds a district to the event's list; its names are its own in the event."""
    names = {"en": _clean_name(name_en), "zh_hans": _clean_name(name_zh_hans)}
    _district_lock(event)
    _check_district_names(event, names)
    district = District.objects.create(
        event=event,
        name=names["en"] or names["zh_hans"],
        name_en=names["en"] or None,
        name_zh_hans=names["zh_hans"] or None,
    )
    _audit(actor, "district_added", district, None, name=names)
    return district


@transaction.atomic
def district_rename(
    *, district: District, name_en: str, name_zh_hans: str, actor: Any
) -> District:
    """Renames a district in either language; its recipients follow."""
    names = {"en": _clean_name(name_en), "zh_hans": _clean_name(name_zh_hans)}
    _district_lock(district.event)
    district = District.objects.select_for_update().get(pk=district.pk)
    _check_district_names(district.event, names, district)
    before = names_of(district)
    if before == names:
        return district
    for suffix, value in names.items():
        setattr(district, f"name_{suffix}", value or None)
    district.save(update_fields=["name_en", "name_zh_hans"])
    _audit(
        actor,
        "district_renamed",
        district,
        None,
        before={"name": before},
        after={"name": names},
    )
    return district


@transaction.atomic
def district_delete(*, district: District, actor: Any) -> None:
    """Takes an unused district off the event's list; one with recipients stays."""
    district = District.objects.select_for_update().get(pk=district.pk)
    used = district.recipients.count()
    if used:
        raise DistrictInUse(
            ngettext(
                "%(name)s is the district of %(count)d recipient: change their "
                "district first, or keep it.",
                "%(name)s is the district of %(count)d recipients: change their "
                "district first, or keep it.",
                used,
            )
            % {"name": district.name, "count": used}
        )
    _audit(actor, "district_deleted", district, None, name=names_of(district))
    district.delete()


def _recipient_apply(person: Recipient, data: RecipientData, *, event: Any) -> None:
    person.kind = data.kind
    person.email = data.email
    person.language = data.language
    for name in RECIPIENT_TEXTS:
        plain = getattr(data, name)
        explicit = {
            suffix: data.texts[f"{name}_{suffix}"]
            for suffix in LANGUAGE_SUFFIXES
            if f"{name}_{suffix}" in data.texts
        }
        if plain or not explicit:
            setattr(person, name, plain)
        for suffix, value in explicit.items():
            setattr(person, f"{name}_{suffix}", value)
    if not any(names_of(person).values()):
        raise ValidationError(
            {"name": [_("Give the recipient's name in at least one language.")]}
        )
    if data.district_id is not None:
        person.district = District.objects.filter(
            event=event, pk=data.district_id
        ).first()
        if person.district is None:
            raise ValidationError({"district": [_("No such district in this event.")]})
        return
    person.district = district_resolve(
        event=event,
        name=data.district,
        name_en=data.texts.get("district_en", ""),
        name_zh_hans=data.texts.get("district_zh_hans", ""),
    )


Citation = str | dict[str, str]


def _citation_apply(nomination: Nomination, citation: Citation) -> list[str]:
    """Writes a citation: a text in the active language, or the columns given
    (``{"citation_zh_hans": ...}``); returns the columns written."""
    if isinstance(citation, str):
        nomination.citation = citation
        return [f"citation_{get_language().replace('-', '_')}"]
    columns = [
        f"citation_{s}" for s in LANGUAGE_SUFFIXES if f"citation_{s}" in citation
    ]
    for column in columns:
        setattr(nomination, column, citation[column])
    return columns


def _recipient_create(data: RecipientData, *, event: Any) -> Recipient:
    person = Recipient()
    _recipient_apply(person, data, event=event)
    person.save()
    return person


# pg_advisory_xact_lock(key, year): one organiser at a time claims a prefix of a year.
_PREFIX_LOCK = 7301
_PREFIX_SHAPE = re.compile(r"[A-Za-z0-9]{1,12}")


def _check_certificate_prefix(
    *, event: Any, prefix: str, category: AwardCategory | None = None
) -> None:
    """An explicit prefix is letters and digits, and no other category of an event
    starting in the same year has it (in any case): its numbers are its own."""
    if not prefix:
        return
    if not _PREFIX_SHAPE.fullmatch(prefix):
        raise ValidationError(
            {"certificate_prefix": [_("Use 1 to 12 letters or digits.")]}
        )
    year = event.starts_on.year
    # SQLite (the one-command demo) writes one transaction at a time anyway.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_PREFIX_LOCK, year])
    taken = AwardCategory.objects.filter(
        event__starts_on__year=year, certificate_prefix__iexact=prefix
    )
    if category is not None:
        taken = taken.exclude(pk=category.pk)
    if taken.exists():
        raise ValidationError(
            {
                "certificate_prefix": [
                    _(
                        "The certificate prefix %(prefix)s is already used by another "
                        "award category in %(year)s: choose another, or leave it empty."
                    )
                    % {"prefix": prefix.upper(), "year": year}
                ]
            }
        )


def _require_text(obj: Any, name: str) -> None:
    """A name or title is given in at least one language."""
    if not any(
        (getattr(obj, f"{name}_{suffix}") or "").strip() for suffix in LANGUAGE_SUFFIXES
    ):
        raise ValidationError(
            _("Give the %(field)s in Chinese, in English, or in both.")
            % {"field": obj._meta.get_field(name).verbose_name}
        )


@transaction.atomic
def category_create(*, event: Any, data: dict[str, Any], actor: Any) -> AwardCategory:
    _check_certificate_prefix(event=event, prefix=data.get("certificate_prefix", ""))
    category = AwardCategory(event=event, **data)
    _require_text(category, "name")
    category.save()
    _audit(actor, "category_created", category, None, name=names_of(category))
    return category


def batch_create(
    *, category: AwardCategory, data: dict[str, Any], actor: Any
) -> AwardBatch:
    try:
        with transaction.atomic():
            batch = AwardBatch(category=category, **data)
            _require_text(batch, "title")
            batch.save()
            _audit(actor, "batch_created", batch, batch, number=batch.number)
    except IntegrityError as exc:
        if "award_batch_number_unique" in str(exc):
            raise DuplicateBatch() from exc
        raise
    return batch


@transaction.atomic
def category_update(
    *, category: AwardCategory, data: dict[str, Any], actor: Any
) -> AwardCategory:
    """Renames or redescribes a category; its kind and prefix stay once announced."""
    category = AwardCategory.objects.select_for_update().get(pk=category.pk)
    announced = category.batches.filter(status=AwardBatch.Status.ANNOUNCED).exists()
    if announced and any(
        data.get(f, getattr(category, f)) != getattr(category, f)
        for f in ("recipient_kind", "certificate_prefix")
    ):
        raise BatchLocked(
            _("A batch of this category is announced: its kind and prefix stay.")
        )
    prefix = data.get("certificate_prefix", category.certificate_prefix)
    if prefix.upper() != category.certificate_prefix.upper():
        _check_certificate_prefix(
            event=category.event, prefix=prefix, category=category
        )
    before = {field: getattr(category, field) for field in data}
    for field, value in data.items():
        setattr(category, field, value)
    _require_text(category, "name")
    category.save(update_fields=list(data))
    _audit(actor, "category_changed", category, None, before=before, after=data)
    return category


def batch_update(*, batch: AwardBatch, data: dict[str, Any], actor: Any) -> AwardBatch:
    """Edits a draft batch (number, title, ceremony session)."""
    try:
        with transaction.atomic():
            batch = _locked_batch(batch)
            if not batch.is_draft:
                raise BatchLocked()
            before = {field: str(getattr(batch, field)) for field in data}
            for field, value in data.items():
                setattr(batch, field, value)
            _require_text(batch, "title")
            batch.save(update_fields=list(data))
            _audit(
                actor,
                "batch_changed",
                batch,
                batch,
                before=before,
                after={f: str(v) for f, v in data.items()},
            )
    except IntegrityError as exc:
        if "award_batch_number_unique" in str(exc):
            raise DuplicateBatch() from exc
        raise
    return batch


def _locked_batch(batch: AwardBatch) -> AwardBatch:
    return (
        AwardBatch.objects.select_for_update()
        .select_related("category__event")
        .get(pk=batch.pk)
    )


@transaction.atomic
def nomination_create(
    *, batch: AwardBatch, recipient: RecipientData, citation: Citation, actor: Any
) -> Nomination:
    """Nominates a recipient; only a draft batch takes nominations."""
    batch = _locked_batch(batch)
    if not batch.is_draft:
        raise BatchLocked()
    person = _recipient_create(recipient, event=batch.category.event)
    nomination = Nomination(batch=batch, recipient=person)
    _citation_apply(nomination, citation)
    nomination.save()
    _audit(actor, "nominated", nomination, batch, recipient=names_of(person))
    return nomination


@transaction.atomic
def nomination_update(
    *, nomination: Nomination, data: dict[str, Any], actor: Any
) -> Nomination:
    """Decides or edits a nomination while its batch is a draft."""
    batch = _locked_batch(nomination.batch)
    if not batch.is_draft:
        raise BatchLocked()
    nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
    before = {field: getattr(nomination, field) for field in data}
    for field, value in data.items():
        setattr(nomination, field, value)
    fields = list(data)
    if "status" in data and data["status"] != before["status"]:
        nomination.decided_at = (
            timezone.now() if data["status"] in Nomination.DECIDED else None
        )
        fields.append("decided_at")
    nomination.save(update_fields=fields)
    _audit(actor, "nomination_changed", nomination, batch, before=before, after=data)
    return nomination


@transaction.atomic
def nomination_edit(
    *, nomination: Nomination, recipient: RecipientData, citation: Citation, actor: Any
) -> Nomination:
    """Corrects who is nominated and why, while the batch is a draft."""
    batch = _locked_batch(nomination.batch)
    if not batch.is_draft:
        raise BatchLocked()
    nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
    person = nomination.recipient
    before = {"name": names_of(person), "citation": names_of(nomination, "citation")}
    _recipient_apply(person, recipient, event=batch.category.event)
    person.save()
    nomination.save(update_fields=_citation_apply(nomination, citation))
    _audit(
        actor,
        "nomination_changed",
        nomination,
        batch,
        before=before,
        after={"name": names_of(person), "citation": names_of(nomination, "citation")},
    )
    return nomination


@transaction.atomic
def nominations_import(
    *,
    batch: AwardBatch,
    rows: list[tuple[RecipientData, Citation]],
    actor: Any,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Nominates every (recipient, citation) of a checked file, all or none."""
    batch = _locked_batch(batch)
    if not batch.is_draft:
        raise BatchLocked()
    for done, (recipient, citation) in enumerate(rows, start=1):
        person = _recipient_create(recipient, event=batch.category.event)
        nomination = Nomination(batch=batch, recipient=person)
        _citation_apply(nomination, citation)
        nomination.save()
        if progress is not None:
            progress(done, len(rows))
    _audit(actor, "nominations_imported", batch, batch, count=len(rows))
    return len(rows)


def judge_add(*, batch: AwardBatch, email: str, actor: Any) -> Any:
    """Makes the user with this address (created if new) a judge of the batch."""
    User = get_user_model()
    address = email.strip().lower()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=address).first()
        if user is None:
            user = User.objects.filter(username=address).first()
        if user is None:
            user = User.objects.create_user(username=address, email=address)
            user.set_unusable_password()
            user.save(update_fields=["password"])
        batch.judges.add(user)
        _audit(actor, "judge_added", batch, batch, judge=address)
    return user


def review_create(
    *,
    nomination: Nomination,
    judge: Any,
    score: int,
    comment: str,
    conflict_of_interest: bool,
) -> Review:
    """A judge's score of a nomination: one per judge, while the batch is a draft."""
    batch = nomination.batch
    if not batch.judges.filter(pk=judge.pk).exists():
        raise NotAllowed()
    try:
        with transaction.atomic():
            if not _locked_batch(batch).is_draft:
                raise BatchLocked()
            review = Review.objects.create(
                nomination=nomination,
                judge=judge,
                score=score,
                comment=comment,
                conflict_of_interest=conflict_of_interest,
            )
            _audit(
                judge,
                "reviewed",
                review,
                batch,
                score=score,
                conflict=conflict_of_interest,
            )
    except IntegrityError as exc:
        if "review_one_per_judge" in str(exc):
            raise DuplicateReview() from exc
        raise
    return review


def _judge_language(judge: Any, batch: AwardBatch) -> str:
    """The language the organisers chose when they invited the judge to this batch."""
    invitation = (
        Notification.objects.filter(
            kind="judge_invited",
            dedupe_key=f"judge_invited:batch:{batch.pk}:user:{judge.pk}",
        )
        .values_list("language", flat=True)
        .first()
    )
    return invitation or "zh-hans"


@transaction.atomic
def judge_invite(*, batch: AwardBatch, email: str, language: str, actor: Any) -> Any:
    """Makes the address a judge of a draft batch and mails the invitation.

    A new account gets a one-time link to set its password that lands on the
    judging page; an account that exists gets the sign-in page. Inviting a judge
    of the batch again sends nothing new (a reminder does).
    """
    from .notices import judge_invitation

    batch = _locked_batch(batch)
    if not batch.is_draft:
        raise BatchLocked()
    judge = judge_add(batch=batch, email=email, actor=actor)
    notifications_enqueue([judge_invitation(judge, batch, language)])
    return judge


@transaction.atomic
def judge_remind(*, batch: AwardBatch, judge: Any, actor: Any) -> None:
    """Mails a judge of a draft batch a reminder with their progress and way in."""
    from .notices import judge_reminder

    batch = _locked_batch(batch)
    if not batch.is_draft:
        raise BatchLocked()
    if not batch.judges.filter(pk=judge.pk).exists():
        raise NotAllowed()
    notifications_enqueue([judge_reminder(judge, batch, _judge_language(judge, batch))])
    _audit(actor, "judge_reminded", batch, batch, judge=judge.email)


@transaction.atomic
def judge_remove(*, batch: AwardBatch, judge: Any, actor: Any) -> int:
    """Takes a judge off a draft batch; the scores they gave stay. Returns how many."""
    batch = _locked_batch(batch)
    if not batch.is_draft:
        raise BatchLocked()
    batch.judges.remove(judge)
    kept = Review.objects.filter(nomination__batch=batch, judge=judge).count()
    _audit(actor, "judge_removed", batch, batch, judge=judge.email, reviews_kept=kept)
    return kept


@dataclass(frozen=True)
class ReviewEntry:
    """What a judge filled in for one nomination on the judging page."""

    nomination_id: int
    score: int | None
    comment: str = ""
    conflict_of_interest: bool = False


@dataclass(frozen=True)
class ReviewsSaved:
    created: int
    changed: int


def _check_entry(entry: ReviewEntry) -> None:
    if entry.conflict_of_interest:
        return
    if entry.score is None or not 1 <= entry.score <= 10:
        raise ValidationError(
            _("Give a score from 1 to 10, or declare a conflict of interest."),
            code="score_required",
        )


@transaction.atomic
def reviews_save(
    *, batch: AwardBatch, judge: Any, entries: list[ReviewEntry]
) -> ReviewsSaved:
    """Creates or changes a judge's reviews of a draft batch, all in one transaction.

    A conflict of interest needs no score and keeps none: it stays out of the mean.
    Entries for nominations that are withdrawn or of another batch are refused; an
    entry that changes nothing is left alone (and not audited).
    """
    for entry in entries:
        _check_entry(entry)
    batch = _locked_batch(batch)
    if not batch.is_draft:
        raise BatchLocked()
    if not batch.judges.filter(pk=judge.pk).exists():
        raise NotAllowed()
    ids = {entry.nomination_id for entry in entries}
    open_ids = set(
        batch.nominations.filter(pk__in=ids)
        .exclude(status=Nomination.Status.WITHDRAWN)
        .values_list("pk", flat=True)
    )
    if ids - open_ids:
        raise AwardNotFound()
    existing = {
        r.nomination_id: r
        for r in Review.objects.select_for_update().filter(
            nomination_id__in=ids, judge=judge
        )
    }
    created = changed = 0
    for entry in entries:
        score = None if entry.conflict_of_interest else entry.score
        review = existing.get(entry.nomination_id)
        if review is None:
            review = Review.objects.create(
                nomination_id=entry.nomination_id,
                judge=judge,
                score=score,
                comment=entry.comment,
                conflict_of_interest=entry.conflict_of_interest,
            )
            existing[entry.nomination_id] = review
            created += 1
            _audit(
                judge,
                "reviewed",
                review,
                batch,
                score=score,
                conflict=entry.conflict_of_interest,
            )
            continue
        before = {
            "score": review.score,
            "comment": review.comment,
            "conflict": review.conflict_of_interest,
        }
        after = {
            "score": score,
            "comment": entry.comment,
            "conflict": entry.conflict_of_interest,
        }
        if before == after:
            continue
        review.score = score
        review.comment = entry.comment
        review.conflict_of_interest = entry.conflict_of_interest
        review.save(update_fields=["score", "comment", "conflict_of_interest"])
        changed += 1
        _audit(judge, "review_changed", review, batch, before=before, after=after)
    return ReviewsSaved(created=created, changed=changed)


@transaction.atomic
def batch_approve(*, batch: AwardBatch, actor: Any) -> AwardBatch:
    """Locks a draft whose every nomination is decided."""
    batch = _locked_batch(batch)
    if batch.status != AwardBatch.Status.DRAFT:
        raise InvalidTransition()
    undecided = batch.nominations.exclude(status__in=Nomination.DECIDED).count()
    if undecided:
        raise UndecidedNominations(
            ngettext(
                "%(count)d nomination is not decided yet: award it, or decide "
                "against it, first.",
                "%(count)d nominations are not decided yet: award them, or decide "
                "against them, first.",
                undecided,
            )
            % {"count": undecided}
        )
    batch.status = AwardBatch.Status.APPROVED
    batch.approved_at = timezone.now()
    batch.save(update_fields=["status", "approved_at"])
    _audit(actor, "approved", batch, batch)
    return batch


@transaction.atomic
def nominations_decide(
    *, batch: AwardBatch, nomination_ids: list[int], status: str, actor: Any
) -> int:
    """Gives several nominations of a draft batch one status at once; returns how many.

    Ids of other batches are ignored; the batch row is locked as for one decision.
    """
    batch = _locked_batch(batch)
    if not batch.is_draft:
        raise BatchLocked()
    if status not in Nomination.Status.values or status == Nomination.Status.NOMINATED:
        raise InvalidTransition()
    nominations = list(
        Nomination.objects.select_for_update()
        .filter(batch=batch, pk__in=nomination_ids)
        .exclude(status=status)
        .order_by("pk")
    )
    now = timezone.now()
    for nomination in nominations:
        before = nomination.status
        nomination.status = status
        nomination.decided_at = now if status in Nomination.DECIDED else None
        _audit(
            actor,
            "nomination_changed",
            nomination,
            batch,
            before={"status": before},
            after={"status": status},
        )
    Nomination.objects.bulk_update(nominations, ["status", "decided_at"])
    return len(nominations)


def awarded_in_order(batch: AwardBatch) -> list[Nomination]:
    """Awarded nominations in run-of-show order, then the rest by nomination."""
    awarded = batch.nominations.filter(status=Nomination.Status.AWARDED).select_related(
        "recipient__district"
    )
    return order_by_run_of_show(batch, list(awarded))


class CertificateNumberTaken(ConflictError):
    code = "certificate_number_taken"
    title = _lazy("A certificate number of this batch is already taken.")


def _certificate_number(batch: AwardBatch, sequence: int) -> str:
    year = batch.category.event.starts_on.year
    return f"{batch.category.prefix}-{year}-{batch.number:02d}-{sequence:03d}"


def _create_certificates(certificates: list[Certificate]) -> None:
    """Saves new certificates; a number another certificate has (prefixes are unique
    in a year, but an event may move into another's year) is a 409, not a 500."""
    try:
        with transaction.atomic():
            Certificate.objects.bulk_create(certificates)
    except IntegrityError as exc:
        if "awards_certificate_number_key" not in str(exc):
            raise
        numbers = [c.number for c in certificates]
        taken = Certificate.objects.filter(number__in=numbers).values_list(
            "number", flat=True
        )
        raise CertificateNumberTaken(
            _(
                "Certificate number %(number)s is already another certificate's, so "
                "nothing was numbered. Give the category a certificate prefix of its "
                "own and try again."
            )
            % {"number": min(taken, default=numbers[0])}
        ) from exc


@transaction.atomic
def batch_announce(*, batch: AwardBatch, actor: Any) -> AwardBatch:
    """Announces an approved batch: certificates numbered, awardees mailed and seated.

    The batch row is locked first, so two announcements at once yield one set of
    certificates and one notice each; the second is refused.
    """
    batch = _locked_batch(batch)
    if batch.status != AwardBatch.Status.APPROVED:
        raise InvalidTransition()
    now = timezone.now()
    event = batch.category.event
    issued_on = timezone.localdate(now, timezone=event.tzinfo)
    certificates = []
    for sequence, nomination in enumerate(awarded_in_order(batch), start=1):
        certificates.append(
            Certificate(
                nomination=nomination,
                batch=batch,
                sequence=sequence,
                number=_certificate_number(batch, sequence),
                issued_on=issued_on,
            )
        )
    _create_certificates(certificates)
    batch.status = AwardBatch.Status.ANNOUNCED
    batch.announced_at = now
    batch.save(update_fields=["status", "announced_at"])
    _audit(
        actor, "announced", batch, batch, certificates=[c.number for c in certificates]
    )
    from .notices import award_notices

    notifications_enqueue(award_notices(batch, certificates))
    if batch.ceremony_session is not None and not batch.ceremony_session.is_cancelled:
        for certificate in certificates:
            recipient = certificate.nomination.recipient
            if recipient.email:
                # The seat carries the name the recipient's own mail uses.
                with translation.override(recipient.language):
                    guest = AttendeeData(
                        full_name=recipient.name,
                        email=recipient.email,
                        organisation=recipient.affiliation,
                        language=recipient.language,
                    )
                registration_reserve(session=batch.ceremony_session, attendee=guest)
    return batch


def run_of_show_update(
    *, batch: AwardBatch, groups: list[dict[str, Any]], actor: Any
) -> AwardBatch:
    """Orders the awardees into groups with a presenter; locked once the ceremony starts."""
    with transaction.atomic():
        batch = _locked_batch(batch)
        if ceremony_has_started(batch):
            raise BatchLocked("The ceremony has started: its run-of-show is locked.")
        allowed = set(
            batch.nominations.filter(status=Nomination.Status.AWARDED).values_list(
                "pk", flat=True
            )
        )
        seen: set[int] = set()
        for group in groups:
            ids = group["nominations"]
            if not set(ids) <= allowed or seen & set(ids) or len(set(ids)) != len(ids):
                raise InvalidRunOfShow()
            seen |= set(ids)
        batch.run_of_show = {
            "groups": [
                {
                    "presenter": g.get("presenter", ""),
                    "nominations": list(g["nominations"]),
                }
                for g in groups
            ]
        }
        batch.save(update_fields=["run_of_show"])
        _audit(
            actor,
            "run_of_show_changed",
            batch,
            batch,
            groups=batch.run_of_show["groups"],
        )
    return batch


@transaction.atomic
def certificate_revoke(
    *, certificate: Certificate, reason: str, actor: Any
) -> Certificate:
    """Revokes a certificate; it stays verifiable, as revoked, with the reason."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.status == Certificate.Status.REVOKED:
        return certificate
    certificate.status = Certificate.Status.REVOKED
    certificate.revoked_reason = reason
    certificate.revoked_at = timezone.now()
    # The stored PDFs no longer tell the truth: the next download draws them anew.
    certificate.pdfs.all().delete()
    certificate.pdf_rendered_at = None
    certificate.save(
        update_fields=["status", "revoked_reason", "revoked_at", "pdf_rendered_at"]
    )
    _audit(actor, "certificate_revoked", certificate, certificate.batch, reason=reason)
    return certificate


def run_of_show_move(
    *, batch: AwardBatch, nomination_id: int, step: int, actor: Any
) -> AwardBatch:
    """Moves one awardee a place earlier (step -1) or later (+1) in the ceremony.

    Across a group boundary the awardee joins the neighbouring group, so the order
    of the whole ceremony is what moves; presenters stay with their groups.
    """
    awarded = [n.pk for n in awarded_in_order(batch)]
    groups = [
        {"presenter": g.get("presenter", ""), "nominations": list(g["nominations"])}
        for g in (batch.run_of_show or {}).get("groups", [])
    ]
    placed = {pk for g in groups for pk in g["nominations"]}
    unplaced = [pk for pk in awarded if pk not in placed]
    if unplaced:
        groups.append({"presenter": "", "nominations": unplaced})
    slots = [(gi, pk) for gi, g in enumerate(groups) for pk in g["nominations"]]
    where = next((i for i, (_g, pk) in enumerate(slots) if pk == nomination_id), None)
    if where is None:
        raise InvalidRunOfShow()
    target = where + step
    if 0 <= target < len(slots):
        (g1, p1), (g2, p2) = slots[where], slots[target]
        if g1 == g2:
            ids = groups[g1]["nominations"]
            i, j = ids.index(p1), ids.index(p2)
            ids[i], ids[j] = ids[j], ids[i]
        else:
            # Crossing into the next or previous group: join it at its near end.
            groups[g1]["nominations"].remove(p1)
            if step > 0:
                groups[g2]["nominations"].insert(0, p1)
            else:
                groups[g2]["nominations"].append(p1)
    return run_of_show_update(batch=batch, groups=groups, actor=actor)


@transaction.atomic
def certificate_reissue(*, certificate: Certificate, actor: Any) -> Certificate:
    """Issues a new certificate, with the next number of its batch, in place of a
    revoked one; the awardee is mailed the new one. The old stays revoked.
    """
    batch = _locked_batch(certificate.batch)
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.status != Certificate.Status.REVOKED:
        raise CertificateNotRevoked()
    if Certificate.objects.filter(replaces=certificate).exists():
        raise CertificateNotRevoked(_("This certificate was reissued already."))
    event = batch.category.event
    sequence = (batch.certificates.aggregate(m=Max("sequence"))["m"] or 0) + 1
    new = Certificate(
        nomination=certificate.nomination,
        batch=batch,
        sequence=sequence,
        number=_certificate_number(batch, sequence),
        issued_on=timezone.localdate(timezone=event.tzinfo),
        replaces=certificate,
    )
    _create_certificates([new])
    _audit(
        actor,
        "certificate_reissued",
        new,
        batch,
        number=new.number,
        replaces=certificate.number,
    )
    from .notices import award_notices

    notifications_enqueue(award_notices(batch, [new]))
    return new


def ceremony_has_started(batch: AwardBatch, at: dt.datetime | None = None) -> bool:
    ceremony = batch.ceremony_session
    return ceremony is not None and ceremony.starts_at <= (at or timezone.now())

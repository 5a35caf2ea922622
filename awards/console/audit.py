"""Console: the audit log of an event's awards: who did what, when."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from events.console.access import organiser_event
from events.models import Event

from ..models import AuditEntry, Nomination
from .forms import in_language

# What each recorded action means, in the reader's words; an action recorded by a
# later version and not named here is shown as recorded.
ACTIONS = {
    "category_created": _("created the award category"),
    "category_changed": _("changed the award category"),
    "batch_created": _("created the batch"),
    "batch_changed": _("changed the batch"),
    "nominated": _("added a nomination"),
    "nomination_changed": _("changed a nomination"),
    "nominations_imported": _("imported nominations"),
    "judge_added": _("invited a judge"),
    "judge_removed": _("removed a judge"),
    "judge_reminded": _("reminded a judge"),
    "reviewed": _("scored a nomination"),
    "review_changed": _("changed a score"),
    "approved": _("approved the batch"),
    "announced": _("announced the batch"),
    "run_of_show_changed": _("changed the run-of-show"),
    "certificate_revoked": _("revoked a certificate"),
    "certificate_reissued": _("reissued a certificate"),
    "district_added": _("added a district"),
    "district_renamed": _("renamed a district"),
    "district_deleted": _("deleted a district"),
}


@organiser_event
def audit_log(request: HttpRequest, event: Event) -> HttpResponse:
    entries = (
        AuditEntry.objects.filter(event=event)
        .select_related("actor", "batch")
        .order_by("-at", "-pk")
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.action_label = ACTIONS.get(entry.action, entry.action)  # type: ignore[attr-defined]
        entry.summary = _summary(entry.detail)  # type: ignore[attr-defined]
    return render(request, "awards/console/audit.html", {"event": event, "page": page})


# The details an entry may carry, in the reader's words.
DETAIL_LABELS = {
    "name": _("name"),
    "recipient": _("recipient"),
    "number": _("number"),
    "count": _("how many"),
    "judge": _("judge"),
    "score": _("score"),
    "conflict": _("conflict of interest"),
    "reason": _("reason"),
    "replaces": _("replaces"),
    "citation": _("citation"),
    "title": _("title"),
    "ceremony_session": _("ceremony session"),
    "name_zh_hans": in_language(_("name"), "zh_hans"),
    "name_en": in_language(_("name"), "en"),
    "title_zh_hans": in_language(_("title"), "zh_hans"),
    "title_en": in_language(_("title"), "en"),
    "description_zh_hans": in_language(_("description"), "zh_hans"),
    "description_en": in_language(_("description"), "en"),
    "citation_zh_hans": in_language(_("citation"), "zh_hans"),
    "citation_en": in_language(_("citation"), "en"),
}


def _in_language(texts: dict) -> str:
    """A text recorded per language ({"en": ..., "zh_hans": ...}) in the reader's,
    else the other one."""
    mine = "zh_hans" if (get_language() or "").startswith("zh") else "en"
    other = "en" if mine == "zh_hans" else "zh_hans"
    return str(texts.get(mine) or texts.get(other) or "")


def _value(value: object) -> str:
    if isinstance(value, dict) and value and set(value) <= {"en", "zh_hans"}:
        value = _in_language(value)
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value[:10]) + (
            " …" if len(value) > 10 else ""
        )
    text = str(value)
    return text if len(text) <= 120 else text[:119] + "…"


def _summary(detail: dict) -> str:
    """The entry's details in words: "status: Nominated → Awarded", names, counts."""
    detail = dict(detail or {})
    parts = []
    before, after = detail.pop("before", None), detail.pop("after", None)
    if isinstance(before, dict) and isinstance(after, dict):
        for key in after:
            old, new = before.get(key), after.get(key)
            if key == "status":
                old, new = _status(old), _status(new)
            label = (
                str(_("status"))
                if key == "status"
                else str(DETAIL_LABELS.get(key, key))
            )
            parts.append(f"{label}: {_value(old)} → {_value(new)}")
    groups = detail.pop("groups", None)
    if isinstance(groups, list):
        parts.append(
            ngettext(
                "%(groups)d group, %(awardees)d awardees",
                "%(groups)d groups, %(awardees)d awardees",
                len(groups),
            )
            % {
                "groups": len(groups),
                "awardees": sum(len(g.get("nominations", [])) for g in groups),
            }
        )
    certificates = detail.pop("certificates", None)
    if isinstance(certificates, list):
        parts.append(
            str(_("certificates %(first)s to %(last)s"))
            % {"first": certificates[0], "last": certificates[-1]}
            if certificates
            else str(_("no certificates"))
        )
    for key, value in detail.items():
        parts.append(f"{DETAIL_LABELS.get(key, key)}: {_value(value)}")
    return " · ".join(parts)


def _status(value: object) -> object:
    try:
        return Nomination.Status(str(value)).label
    except ValueError:
        return value

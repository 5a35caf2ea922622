"""Console: the audit log of an event's awards: who did what, when."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from events.console.access import organiser_event
from events.models import Event

from ..models import AuditEntry

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


def _summary(detail: dict) -> str:
    """The entry's details as one line of "key: value" pairs, long values cut."""
    parts = []
    for key, value in (detail or {}).items():
        text = value if isinstance(value, str) else str(value)
        parts.append(f"{key}: {text[:120]}")
    return " · ".join(parts)

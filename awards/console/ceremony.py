"""Console: the ceremony of an award batch: its run-of-show and the announcer's script.

The run-of-show orders the awardees into groups, each with a presenter, and may
change until the ceremony starts; the script prints it for the announcer.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from config.problems import DomainError
from events.console.access import organiser_event
from events.models import Event
from events.validators import no_control_characters

from .. import services
from ..models import Nomination
from .batches import batch_in_event


@organiser_event
def run_of_show_edit(request: HttpRequest, event: Event, batch_id: int) -> HttpResponse:
    """Groups of awardees called up together, each with a presenter; no JavaScript needed."""
    batch = batch_in_event(event, batch_id)
    awarded = services.awarded_in_order(batch)
    locked = services.ceremony_has_started(batch)
    position = {
        pk: (number, order)
        for number, group in enumerate(batch.run_of_show.get("groups", []), start=1)
        for order, pk in enumerate(group.get("nominations", []), start=1)
    }
    presenters = {
        number: group.get("presenter", "")
        for number, group in enumerate(batch.run_of_show.get("groups", []), start=1)
    }
    # One group more than in use (up to one per awardee), so that awardees can
    # always be moved into a new group with a presenter of its own.
    group_count = max(
        min(len(presenters) + 1, len(awarded)), (len(awarded) + 4) // 5, 1
    )
    if request.method == "POST" and locked:
        messages.error(
            request, _("The ceremony has started: the run-of-show is locked.")
        )
        return redirect(
            "awards_console:run_of_show", slug=event.slug, batch_id=batch.pk
        )
    move = request.POST.get("move", "") if request.method == "POST" else ""
    if move:  # a row's "earlier" or "later" button: "<nomination>:<-1|1>"
        pk, _sep, step = move.partition(":")
        try:
            services.run_of_show_move(
                batch=batch,
                nomination_id=_int(pk, default=0, low=0, high=2**63 - 1),
                step=-1 if step == "-1" else 1,
                actor=request.user,
            )
        except DomainError as exc:
            messages.error(request, exc.detail)
        return redirect(
            "awards_console:run_of_show", slug=event.slug, batch_id=batch.pk
        )
    if request.method == "POST":
        groups: dict[int, list[tuple[int, int]]] = {}
        for index, nomination in enumerate(awarded):
            number = _int(
                request.POST.get(f"group-{nomination.pk}"),
                default=1,
                low=1,
                high=group_count,
            )
            order = _int(
                request.POST.get(f"order-{nomination.pk}"),
                default=index + 1,
                low=1,
                high=10_000,
            )
            groups.setdefault(number, []).append((order, nomination.pk))
        typed = {
            number: request.POST.get(f"presenter-{number}", "").strip()
            for number in range(1, group_count + 1)
        }
        presenter_errors = _presenter_errors(typed)
        if presenter_errors:
            # Refused as the API refuses it; the organiser sees what they typed.
            return render(
                request,
                "awards/console/run_of_show.html",
                {
                    "event": event,
                    "batch": batch,
                    "rows": _run_of_show_rows(awarded, position),
                    "groups": [
                        (n, typed[n], presenter_errors.get(n))
                        for n in range(1, group_count + 1)
                    ],
                    "locked": locked,
                },
                status=400,
            )
        payload = [
            {
                "presenter": typed.get(number, ""),
                "nominations": [pk for _order, pk in sorted(groups[number])],
            }
            for number in sorted(groups)
        ]
        try:
            services.run_of_show_update(batch=batch, groups=payload, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("The run-of-show is saved."))
        return redirect(
            "awards_console:run_of_show", slug=event.slug, batch_id=batch.pk
        )
    return render(
        request,
        "awards/console/run_of_show.html",
        {
            "event": event,
            "batch": batch,
            "rows": _run_of_show_rows(awarded, position),
            "groups": [
                (n, presenters.get(n, ""), None) for n in range(1, group_count + 1)
            ],
            "locked": locked,
        },
    )


def _presenter_errors(typed: dict[int, str]) -> dict[int, str]:
    """The messages of presenters the API would refuse, by group number."""
    errors = {}
    for number, presenter in typed.items():
        if len(presenter) > 200:
            errors[number] = _("Give at most 200 characters.")
            continue
        try:
            no_control_characters(presenter)
        except ValidationError as exc:
            errors[number] = " ".join(exc.messages)
    return errors


def _run_of_show_rows(
    awarded: list[Nomination], position: dict[int, tuple[int, int]]
) -> list[dict[str, Any]]:
    return [
        {
            "nomination": n,
            "group": position.get(n.pk, (1 + i // 5, 0))[0],
            "order": position.get(n.pk, (0, i + 1))[1] or i + 1,
        }
        for i, n in enumerate(awarded)
    ]


def _int(value: str | None, *, default: int, low: int, high: int) -> int:
    try:
        number = int(value or "")
    except ValueError:
        return default
    return min(max(number, low), high)


@organiser_event
def announcer_script(request: HttpRequest, event: Event, batch_id: int) -> HttpResponse:
    """A printable script: who presents, whom to call up, in order."""
    batch = batch_in_event(event, batch_id)
    awarded = {n.pk: n for n in services.awarded_in_order(batch)}
    groups = [
        {
            "presenter": group.get("presenter", ""),
            "nominations": [
                awarded[pk] for pk in group.get("nominations", []) if pk in awarded
            ],
        }
        for group in batch.run_of_show.get("groups", [])
    ]
    placed = {n.pk for g in groups for n in g["nominations"]}
    unplaced = [n for pk, n in awarded.items() if pk not in placed]
    if unplaced:
        groups.append({"presenter": "", "nominations": unplaced})
    return render(
        request,
        "awards/console/script.html",
        {"event": event, "batch": batch, "groups": groups},
    )

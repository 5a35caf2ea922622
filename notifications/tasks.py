"""Celery tasks of the outbox: they take ids and call a service."""

from celery import shared_task


@shared_task(ignore_result=True)
def dispatch_notifications() -> int:
    from .services import notifications_dispatch

    return notifications_dispatch()


@shared_task(acks_late=True, ignore_result=True)
def deliver_notifications(ids: list[int], top_up: bool = False) -> dict[str, int]:
    from .services import notifications_deliver

    return notifications_deliver(ids=ids, top_up=top_up)

"""Celery tasks of the events app: they take ids (or nothing) and call a service."""

from celery import shared_task


@shared_task(ignore_result=True)
def idempotency_keys_delete_expired() -> int:
    """Beat's hourly sweep of registration retry keys past their 24 hours."""
    from .idempotency import idempotency_keys_delete_expired

    return idempotency_keys_delete_expired()


@shared_task(ignore_result=True)
def anonymise_expired_personal_data() -> int:
    """Beat's daily pass: attendees' data of events past their retention period."""
    from .services import personal_data_expire

    return personal_data_expire()

"""The Celery application; configuration comes from the ``CELERY_*`` Django settings.

It also holds ``RedisTransport``, kombu's Redis transport with one fix, which
``CELERY_BROKER_TRANSPORT`` selects whenever the broker is Redis.
"""

import os
from typing import Any

from celery import Celery
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class RedisChannel(kombu_redis.Channel):
    """A Redis channel that can still give its unacknowledged messages back once closed.

    When Redis goes away, Celery's consumer (5.7) first ``collect()``s the broken
    connection, then ``close()``s it. In ``collect()``, kombu's ``Channel.close()``
    reads the reply of the BRPOP in flight (kombu PR #1733), which raises
    ``ConnectionError`` before the channel is marked closed; ``collect()`` then
    detaches the transport from its connection (``transport.client = None``). The
    second ``close()`` restores the unacknowledged messages, needs the broker's
    address for a new Redis client, reads ``transport.client.hostname`` and raises
    ``AttributeError``, which no one catches: the worker logs "Unrecoverable error"
    and exits (kombu 5.7.0, celery 5.7.0, the newest releases).

    The channel keeps the connection it was opened on, so the restore either
    reaches Redis (the messages are queued again) or fails with a connection error,
    which Celery ignores while it reconnects. Either way no mail is lost: the rows
    are in PostgreSQL and the dispatcher queues what is still due.
    """

    def __init__(self, connection: Any, *args: Any, **kwargs: Any) -> None:
        self._opened_on = connection.client
        super().__init__(connection, *args, **kwargs)

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        transport = self.connection
        if transport.client is not None or self._opened_on is None:
            return super()._connparams(asynchronous=asynchronous)
        transport.client = self._opened_on
        try:
            return super()._connparams(asynchronous=asynchronous)
        finally:
            transport.client = None


class RedisTransport(kombu_redis.Transport):
    Channel = RedisChannel


app = Celery("podium")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""Schemathesis against /api/schema/: no 5xx, and every answer as the schema says."""

import json
import os

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .factories import EventFactory, SessionFactory, UserFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def served_schema() -> dict:
    """The schema exactly as /api/schema/ serves it."""
    response = Client(HTTP_HOST="localhost").get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


schema = schemathesis.openapi.from_dict(served_schema())


@pytest.fixture
def organiser_token(settings, postgres_transactional) -> str:
    settings.REGISTRATION_RATE_LIMIT = None
    organiser = UserFactory()
    event = EventFactory(slug="week", organisers=[organiser])
    SessionFactory(event=event, capacity=1)
    return Token.objects.create(user=organiser).key


@schema.parametrize()
@settings(
    # Derandomised so that CI is repeatable; raise SCHEMATHESIS_EXAMPLES to explore more.
    max_examples=int(os.environ.get("SCHEMATHESIS_EXAMPLES", "40")),
    derandomize=os.environ.get("SCHEMATHESIS_RANDOM") != "1",
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_its_schema_says(case, live_server, organiser_token) -> None:
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Token {organiser_token}"},
        checks=CHECKS,
    )

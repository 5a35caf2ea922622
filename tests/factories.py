"""factory_boy factories for the models under test."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from events.models import Attendee, Event, Session, Venue


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}@example.org")
    email = factory.SelfAttribute("username")
    is_staff = True


class VenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Venue

    name = "Ningbo Talents House"
    address = "Jiangbei District, Ningbo"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"week-{n}")
    title = factory.Sequence(lambda n: f"Social Work Week {n}")
    status = Event.Status.PUBLISHED
    timezone = "Asia/Shanghai"
    starts_on = factory.LazyFunction(
        lambda: timezone.localdate() + dt.timedelta(days=10)
    )
    ends_on = factory.LazyAttribute(lambda e: e.starts_on + dt.timedelta(days=2))
    venue = factory.SubFactory(VenueFactory)
    registration_opens_at = factory.LazyFunction(
        lambda: timezone.now() - dt.timedelta(days=1)
    )
    registration_closes_at = factory.LazyFunction(
        lambda: timezone.now() + dt.timedelta(days=9)
    )

    @factory.post_generation
    def organisers(
        self, create: bool, extracted: list | None, **kwargs: object
    ) -> None:
        if create and extracted:
            self.organisers.add(*extracted)


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    event = factory.SubFactory(EventFactory)
    title = factory.Sequence(lambda n: f"Session {n}")
    kind = Session.Kind.TALK
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=10))
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + dt.timedelta(hours=2))
    capacity = 10
    waitlist_enabled = True


class AttendeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendee

    email = factory.Sequence(lambda n: f"attendee{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Attendee {n}")

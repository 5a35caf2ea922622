"""What organisers write, in both languages (django-modeltranslation).

Each field named here has <field>_en and <field>_zh_hans columns; reading <field>
gives the active language's value, else the other language's.
"""

from modeltranslation.translator import TranslationOptions, register

from .models import Event, Session, Venue


@register(Venue)
class VenueTranslation(TranslationOptions):
    fields = ("name", "address")


@register(Event)
class EventTranslation(TranslationOptions):
    fields = (
        "title",
        "description",
        "organiser_name",
        "signatory_name",
        "signatory_title",
    )


@register(Session)
class SessionTranslation(TranslationOptions):
    fields = ("title", "description")

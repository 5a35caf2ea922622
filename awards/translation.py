"""What organisers write about awards, in both languages (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from .models import AwardBatch, AwardCategory, District, Nomination, Recipient


@register(District)
class DistrictTranslation(TranslationOptions):
    fields = ("name",)


@register(AwardCategory)
class AwardCategoryTranslation(TranslationOptions):
    fields = ("name", "description")


@register(AwardBatch)
class AwardBatchTranslation(TranslationOptions):
    fields = ("title",)


@register(Recipient)
class RecipientTranslation(TranslationOptions):
    fields = ("name", "title", "affiliation", "street", "community")


@register(Nomination)
class NominationTranslation(TranslationOptions):
    fields = ("citation",)

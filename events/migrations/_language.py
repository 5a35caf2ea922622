"""For data migrations: which language column an existing text belongs in."""

import re

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def language_of(text: str) -> str:
    """zh_hans for a text with any Chinese character in it, else en."""
    return "zh_hans" if _HAN.search(text) else "en"


def split_languages(text: str) -> dict[str, str]:
    """The text by language column: "Kick-off · 启动仪式", as the demo glued the two
    languages before they had columns of their own, gives each its part."""
    english, sep, chinese = text.partition(" · ")
    if sep and language_of(english) == "en" and language_of(chinese) == "zh_hans":
        return {"en": english.strip(), "zh_hans": chinese.strip()}
    return {language_of(text): text}


def languages_copied(app_label: str, translated: dict[str, tuple[str, ...]]):
    """A RunPython pair for a model's new language columns: forwards, each existing
    text to the column(s) of its language; backwards, the English text (else the
    Chinese) into the original column."""

    def forwards(apps, schema_editor):
        for model_name, fields in translated.items():
            model = apps.get_model(app_label, model_name)
            columns = [f"{f}_{lang}" for f in fields for lang in ("en", "zh_hans")]
            for row in model.objects.all().iterator():
                for field in fields:
                    for language, text in split_languages(getattr(row, field) or "").items():
                        setattr(row, f"{field}_{language}", text)
                row.save(update_fields=columns)

    def backwards(apps, schema_editor):
        for model_name, fields in translated.items():
            model = apps.get_model(app_label, model_name)
            for row in model.objects.all().iterator():
                for field in fields:
                    value = getattr(row, f"{field}_en") or getattr(row, f"{field}_zh_hans")
                    setattr(row, field, value or "")
                row.save(update_fields=list(fields))

    return forwards, backwards

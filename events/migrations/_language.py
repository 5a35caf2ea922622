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

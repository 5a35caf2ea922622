"""Strings of Django's own that Podium's Simplified Chinese pages need reworded.

Django's zh_Hans catalogue lacks the password-length error (its wording changed)
and addresses the reader as 你 where Podium's pages say 您. Marking the English
strings here puts them in Podium's own catalogue (locale/), which Django reads
before its own, with Podium's translations.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

PASSWORD_TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %d character.",
    "This password is too short. It must contain at least %d characters.",
)
PASSWORD_HELP_TEXTS = [
    gettext_noop(
        "Your password can’t be too similar to your other personal information."
    ),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("Your password can’t be entirely numeric."),
]
PASSWORD_LENGTH_HELP = ngettext_lazy(
    "Your password must contain at least %(min_length)d character.",
    "Your password must contain at least %(min_length)d characters.",
    "min_length",
)

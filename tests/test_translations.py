"""Every page complete in zh-Hans: each string the code marks for translation has a
Chinese translation in the compiled catalogue that Podium ships.

The catalogue is extracted afresh (``makemessages`` on a copy of the source), so a
string added without a translation, or a translation not compiled into the ``.mo``,
fails here rather than showing English on a Chinese page.
"""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib

from tests.conftest import require

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["config", "events", "awards", "notifications", "templates", "manage.py"]


def test_every_marked_string_has_a_compiled_chinese_translation(tmp_path) -> None:
    require(shutil.which("msgfmt") is not None, "GNU gettext (msgfmt)")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(source, tmp_path / name)
    (tmp_path / "locale").mkdir()
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-location",
            "-v",
            "0",
        ],
        cwd=tmp_path,
        check=True,
        env={
            **os.environ,
            "DJANGO_SECRET_KEY": "translations-test",
            "PYTHONPATH": str(tmp_path),
        },
    )
    fresh = polib.pofile(str(tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po"))
    with (ROOT / "locale/zh_Hans/LC_MESSAGES/django.mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]

    missing = []
    for entry in fresh:
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        found = catalogue.get((key, 0)) if entry.msgid_plural else catalogue.get(key)
        if not found:
            missing.append(entry.msgid)
    assert len(fresh) > 100
    assert not missing, (
        f"{len(missing)} strings without a Chinese translation: {missing[:40]}"
    )

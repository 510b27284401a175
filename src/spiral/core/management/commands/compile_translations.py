"""Compile the .po files into .mo with polib, so no system gettext is needed to build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po into .mo; --strict fails on untranslated entries."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--strict", action="store_true", help="Fail if a message is untranslated or fuzzy."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        compiled = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                catalogue = polib.pofile(str(po_path))
                missing = [e.msgid for e in catalogue.untranslated_entries()]
                fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
                if missing or fuzzy:
                    problems.append(f"{po_path}: {len(missing)} untranslated, {len(fuzzy)} fuzzy")
                mo_path = po_path.with_suffix(".mo")
                if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
                    catalogue.save_as_mofile(str(mo_path))
                compiled += 1
        for problem in problems:
            self.stderr.write(problem)
        if problems and options["strict"]:
            raise CommandError("Some translations are missing.")
        self.stdout.write(f"{compiled} catalogue(s) compiled.")

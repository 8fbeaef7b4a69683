"""Keep the kiosk's gettext catalogues in step with the code: extract every message, merge into
each language's .po (keeping translations), and compile the .mo files the app loads.

    .venv/bin/python scripts/translations.py          # update .po and .mo
    .venv/bin/python scripts/translations.py --check  # exit 1 if anything is missing or stale
"""

from __future__ import annotations

import gettext
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
KIOSK = ROOT / "kiosk"
LANGUAGES = ("es",)


def template() -> Catalog:
    catalog = Catalog(project="bronco-kiosk")
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(KIOSK), method_map=[("**.py", "python")],
            keywords={"_": None, "gettext": None, "ngettext": (1, 2)}):
        catalog.add(message, locations=[(filename, lineno)])
    return catalog


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def compiled_messages(mo_path: Path) -> dict[str, str]:
    """The messages a compiled catalogue holds (its header, with dates, is left out)."""
    with mo_path.open("rb") as fh:
        messages = gettext.GNUTranslations(fh)._catalog  # the parsed table; no public accessor
    return {k: v for k, v in messages.items() if k}


def _translated(string: str | tuple[str, ...]) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


def _table(catalog: Catalog) -> dict[object, str]:
    """What a compiled catalogue should hold: plurals keyed (singular, form) as gettext does."""
    table: dict[object, str] = {}
    for message in catalog:
        if not message.id or not _translated(message.string):
            continue
        if isinstance(message.id, tuple):
            for form, text in enumerate(message.string):
                table[(message.id[0], form)] = text
        else:
            table[message.id] = message.string
    return table


def main(check: bool) -> int:
    source = template()
    problems = []
    for language in LANGUAGES:
        folder = KIOSK / "locale" / language / "LC_MESSAGES"
        po_path, mo_path = folder / "kiosk.po", folder / "kiosk.mo"
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=language)
        catalog.update(source, no_fuzzy_matching=True)
        missing = [m.id for m in catalog if m.id and not _translated(m.string)]
        problems += [f"{language}: untranslated: {m!r}" for m in missing]
        mo = compiled(catalog)
        if check:
            wanted = _table(catalog)
            if not mo_path.exists() or compiled_messages(mo_path) != wanted:
                problems.append(f"{language}: {mo_path.name} is not compiled from the current .po")
        else:
            with po_path.open("wb") as fh:
                write_po(fh, catalog, width=100, omit_header=False, sort_output=True,
                         include_previous=False)
            mo_path.write_bytes(mo)
    print("\n".join(problems) or "translations complete")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))

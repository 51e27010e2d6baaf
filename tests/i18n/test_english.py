"""The English catalogue: complete, compiled, and what a signed-in persona sees after
switching to English.

The msgids are Danish (the screens are Danish first); `tovholder/locale/en` holds the
English. The .po is parsed here with a tiny stdlib parser so the tests need neither
msgfmt nor polib.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "tovholder" / "locale" / "en" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"

# ---------------------------------------------------------------- a tiny .po parser


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    refs: list[str] = field(default_factory=list)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # 0 for a singular entry
    obsolete: bool = False

    @property
    def where(self) -> str:
        return f"django.po:{self.line} ({', '.join(self.refs[:2]) or 'header'}) {self.msgid[:60]!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None

    def start(lineno: int) -> Entry:
        nonlocal current
        if current is None:
            current = Entry(line=lineno)
        return current

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            if current is not None:
                entries.append(current)
            current, target = None, None
            continue
        if line.startswith("#~"):
            start(lineno).obsolete = True
        elif line.startswith("#,"):
            start(lineno).flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
        elif line.startswith("#:"):
            start(lineno).refs += line[2:].split()
        elif line.startswith("#"):
            start(lineno)
        elif m := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line):
            entry = start(lineno)
            key, index, value = m.group(1), m.group(2), _unquote(m.group(3))
            if key == "msgctxt":
                entry.msgctxt, target = value, ("msgctxt", 0)
            elif key == "msgid":
                entry.msgid, target = value, ("msgid", 0)
            elif key == "msgid_plural":
                entry.msgid_plural, target = value, ("msgid_plural", 0)
            else:
                i = int(index) if index is not None else 0
                entry.msgstr[i], target = value, ("msgstr", i)
        elif line.startswith('"') and current is not None and target is not None:
            value = _unquote(line)
            kind, i = target
            if kind == "msgstr":
                current.msgstr[i] += value
            else:
                setattr(current, kind, (getattr(current, kind) or "") + value)
        else:
            raise AssertionError(f"django.po:{lineno}: cannot parse {raw!r}")
    if current is not None:
        entries.append(current)
    return [e for e in entries if not e.obsolete]


def expected_catalog(entries: list[Entry]) -> dict:
    """The catalogue as gettext.GNUTranslations holds it after reading a .mo."""
    catalog: dict = {}
    for e in entries:
        if "fuzzy" in e.flags and e.msgid:
            continue  # msgfmt leaves fuzzy entries out
        key = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if e.msgid_plural is None:
            catalog[key] = e.msgstr[0]
            if not e.msgid:  # msgfmt drops the POT creation date from the header
                catalog[key] = re.sub(r"POT-Creation-Date:[^\n]*\n", "", e.msgstr[0])
        else:
            for i, text in e.msgstr.items():
                catalog[(key, i)] = text
    return catalog


PLACEHOLDER = re.compile(r"%\([^)]+\)[sdifr]|%[sdifr]|\{[A-Za-z_][A-Za-z_0-9]*\}|&[a-z]+;|&#\d+;")


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return [e for e in parse_po(PO) if e.msgid]


# ---------------------------------------------------------------- (a) complete


def test_it_translates_every_entry_and_leaves_nothing_fuzzy(entries):
    assert len(entries) > 100, "the English catalogue looks empty"
    header = parse_po(PO)[0]
    assert header.msgid == "" and "fuzzy" not in header.flags, "the header is still marked fuzzy"
    assert "Language: en" in header.msgstr[0]
    problems = []
    for e in entries:
        if "fuzzy" in e.flags:
            problems.append(f"fuzzy: {e.where}")
        forms = 2 if e.msgid_plural is not None else 1
        if sorted(e.msgstr) != list(range(forms)):
            problems.append(f"wrong number of msgstr forms: {e.where}")
        if any(not text.strip() for text in e.msgstr.values()):
            problems.append(f"no English: {e.where}")
    assert not problems, "\n".join(problems)


def test_it_keeps_every_placeholder_and_entity(entries):
    problems = []
    for e in entries:
        sources = [e.msgid] if e.msgid_plural is None else [e.msgid, e.msgid_plural]
        for i, source in enumerate(sources):
            wanted = sorted(PLACEHOLDER.findall(source))
            got = sorted(PLACEHOLDER.findall(e.msgstr.get(i, "")))
            if i == 0 and e.msgid_plural is not None:
                # the singular may spell out "one" instead of repeating the count
                wanted, got = sorted(set(wanted)), sorted(set(got))
                if set(got) <= set(wanted) and len(set(wanted) - set(got)) <= 1:
                    continue
            if wanted != got:
                problems.append(f"{e.where}: {wanted} ≠ {got}")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- (b) compiled


def test_it_ships_a_compiled_catalogue_that_matches_the_po(entries):
    assert MO.exists(), "compile with: msgfmt -c -o tovholder/locale/en/LC_MESSAGES/django.mo …/django.po"
    with MO.open("rb") as fp:
        compiled = gettext.GNUTranslations(fp)._catalog
    wanted = expected_catalog(parse_po(PO))
    missing = sorted(str(k)[:70] for k in wanted.keys() - compiled.keys())
    extra = sorted(str(k)[:70] for k in compiled.keys() - wanted.keys())
    changed = sorted(str(k)[:70] for k in wanted.keys() & compiled.keys() if wanted[k] != compiled[k])
    assert not (missing or extra or changed), (
        "django.mo is out of date with django.po — run msgfmt -c and commit the .mo. "
        f"Missing: {missing[:10]} Extra: {extra[:10]} Changed: {changed[:10]}"
    )


def test_it_translates_at_runtime_with_the_committed_catalogue():
    with translation.override("en"):
        assert translation.gettext("Mine forløb") == "My pathways"
        assert translation.gettext("Afventer samtykke") == "Awaiting consent"
        assert translation.ngettext("%(n)s hverdag", "%(n)s hverdage", 3) % {"n": 3} == "3 working days"
    with translation.override("da"):
        assert translation.gettext("Mine forløb") == "Mine forløb"


# ---------------------------------------------------------------- (c) a persona in English


class _Texts(HTMLParser):
    """Collects the text of headings, table headers, captions, nav links and buttons."""

    WATCH = {"h1", "h2", "h3", "h4", "th", "caption", "nav", "button", "title", "label", "legend"}

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.buffer: list[str] = []
        self.texts: list[str] = []
        self.lang = None

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if tag in self.WATCH:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.WATCH and self.depth:
            self.depth -= 1
            if self.depth == 0:
                self.texts += [t for t in (s.strip() for s in self.buffer) if t]
                self.buffer = []

    def handle_data(self, data):
        if self.depth:
            self.buffer.append(data)


def _danish_leftovers(html: str, entries: list[Entry]) -> tuple[str | None, list[str]]:
    parser = _Texts()
    parser.feed(html)
    danish = {e.msgid for e in entries if e.msgstr.get(0) and e.msgstr[0] != e.msgid and "%" not in e.msgid}
    leftovers = [t for t in parser.texts if t in danish or any(t.startswith(d + " ") for d in danish if len(d) > 12)]
    return parser.lang, leftovers


def _to_english(client) -> None:
    response = client.post(reverse("web:set_language"), {"language": "en", "next": reverse("cases:home")})
    assert response.status_code == 302


def test_it_shows_a_signed_in_teacher_the_home_page_in_english(world, login, entries):
    client = login("lars")
    before = client.get(reverse("cases:home")).content.decode()
    assert "Mine forløb" in before  # Danish by default

    _to_english(client)
    html = client.get(reverse("cases:home")).content.decode()

    lang, leftovers = _danish_leftovers(html, entries)
    assert lang == "en"
    assert "<h1>My pathways</h1>" in html
    assert "<title>My pathways · Tovholder</title>" in html
    # the menu
    for english in ("My pathways", "My deadlines", "Consultation", "Refer a child", "Where do I send it?", "Log out",
                    "Main menu", "Skip to content"):
        assert english in html, english
    # the list of cases: caption and column headers, the stage and role
    for english in ("pathway where you have a role — most urgent first", ">Child<", ">Age<", ">Stage<",
                    ">My role<", ">Next deadline<", "Lead professional", "Awaiting start meeting"):
        assert english in html, english
    assert world.case.child.full_name in html
    # and the button back to Danish
    assert ">Dansk</button>" in html
    for danish in ("Mine forløb", "Hovedmenu", "Log ud", "Spring til indhold", "Mine frister", "Henvis et barn",
                   "Næste frist", "Min rolle", "Afventer igangsætningsmøde"):
        assert danish not in html, danish
    assert not leftovers, f"Danish left on the English home page: {leftovers}"


@pytest.mark.parametrize("persona", ["ida", "karen", "admin"])
def test_it_gives_other_personas_an_english_menu(world, login, entries, persona):
    client = login(persona)
    _to_english(client)
    html = client.get(reverse("cases:home")).content.decode()
    lang, leftovers = _danish_leftovers(html, entries)
    assert lang == "en"
    assert "My pathways" in html
    assert not leftovers, f"Danish left on {persona}'s English home page: {leftovers}"


def test_it_keeps_danish_for_a_persona_who_switches_back(world, login):
    client = login("lars")
    _to_english(client)
    client.post(reverse("web:set_language"), {"language": "da", "next": reverse("cases:home")})
    html = client.get(reverse("cases:home")).content.decode()
    assert "<h1>Mine forløb</h1>" in html
    assert 'lang="da"' in html

"""References found in transcripts by rules: statutes, EU acts, court cases and organisations.

Each rule is a regular expression written for how Swedish speakers and transcribers write these
things, with the near misses it must not take (``sommarlov`` is not LOV, ``SOU 2019:56`` is not
an SFS number, ``C-vitamin`` is not an EU case). A :class:`Reference` is identified by its
``kind`` and a URL-safe ``key``, so every way of naming it (``LOU``, ``lagen om offentlig
upphandling``, ``2016:1145``) lands on one page; statutes and EU acts link to their text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from poddarkiv.archive.models import Episode, Transcript
from poddarkiv.archive.normalise import slugify

__all__ = [
    "REFERENCE_KINDS",
    "Found",
    "Mention",
    "Reference",
    "extract_references",
    "find_references",
]

#: Kind → (Swedish label, English label), in the order pages list them.
REFERENCE_KINDS: dict[str, tuple[str, str]] = {
    "lag": ("Lag", "Statute"),
    "eu": ("EU-rättsakt", "EU act"),
    "mal": ("Rättsfall", "Court case"),
    "organisation": ("Organisation", "Organisation"),
}
CONTEXT_CHARS = 80
LAGEN_NU = "https://lagen.nu/{sfs}"
EUR_LEX = "https://eur-lex.europa.eu/legal-content/SV/TXT/?uri=CELEX:{celex}"
CURIA = "https://curia.europa.eu/juris/liste.jsf?num={case}&language=sv"
DOMSTOL = "https://www.domstol.se/{slug}/"


@dataclass(frozen=True, slots=True)
class Reference:
    """Something a transcript refers to; ``(kind, key)`` identifies it and names its page."""

    kind: str
    key: str
    label: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """A reference found in a text, with the character span that named it."""

    reference: Reference
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Mention:
    """Where an episode mentions a reference: a segment with its times, or (``segment`` None)
    the episode's title or description."""

    reference: Reference
    episode_id: str
    segment: int | None
    start_s: float | None
    end_s: float | None
    context: str


# -- statutes -------------------------------------------------------------------------------

# Abbreviation → SFS number and name. Written in capitals only: "lov" is a holiday.
_ACTS: dict[str, tuple[str, str]] = {
    "LOU": ("2016:1145", "Lagen om offentlig upphandling (LOU)"),
    "LUF": ("2016:1146", "Lagen om upphandling inom försörjningssektorerna (LUF)"),
    "LUK": ("2016:1147", "Lagen om upphandling av koncessioner (LUK)"),
    "LOV": ("2008:962", "Lagen om valfrihetssystem (LOV)"),
    "LUFS": ("2011:1029", "Lagen om upphandling på försvars- och säkerhetsområdet (LUFS)"),
}
_ACT_NAMES: dict[str, tuple[str, str]] = {
    "kommunallag": ("2017:725", "Kommunallagen"),
    "konkurrenslag": ("2008:579", "Konkurrenslagen"),
    **{abbr: act for abbr, act in _ACTS.items()},
}
_SFS_LABELS = {sfs: label for sfs, label in _ACT_NAMES.values()}
_ACT_NAME_RE = re.compile(
    r"\b(?:[Ll]ag(?:en)? om (?:(?P<lou>offentlig upphandling)|(?P<lov>valfrihetssystem)"
    r"|upphandling (?:inom (?P<luf>försörjningssektorerna)|av (?P<luk>koncessioner)))"
    r"|(?P<abbr>LOU|LUFS|LUF|LUK|LOV)|(?P<name>[Kk]ommunallag|[Kk]onkurrenslag)(?:en|ens)?)\b")
_SFS_RE = re.compile(r"(?<![\w/:.,-])(?:SFS\s*)?(?P<sfs>(?:18|19|20)\d\d:\d{1,4})(?![\w:/-])")
# Other series share the YYYY:N form: SOU 2019:56, Ds 2020:1, prop., NJA, AFS 2020:1 …
_NOT_SFS = re.compile(
    r"(?:\b(?:SOU|Ds|Dir|[Pp]rop|[Bb]et|[Rr]skr|NJA|RÅ|HFD|[A-ZÅÄÖ]{1,8}FS)\.?\s*)$")


def _statute(sfs: str) -> Reference:
    return Reference("lag", sfs, _SFS_LABELS.get(sfs, f"SFS {sfs}"), LAGEN_NU.format(sfs=sfs))


def _act_names(text: str) -> Iterator[Found]:
    for m in _ACT_NAME_RE.finditer(text):
        group = m.lastgroup or ""
        key = {"lou": "LOU", "lov": "LOV", "luf": "LUF", "luk": "LUK"}.get(group)
        if group == "abbr":
            key = m.group("abbr")
        elif group == "name":
            key = m.group("name").lower()
        if key is not None:
            yield Found(_statute(_ACT_NAMES[key][0]), m.start(), m.end(), m.group())


def _sfs_numbers(text: str) -> Iterator[Found]:
    for m in _SFS_RE.finditer(text):
        if not _NOT_SFS.search(text[max(0, m.start() - 12):m.start()]):
            yield Found(_statute(m.group("sfs")), m.start(), m.end(), m.group())


# -- EU acts --------------------------------------------------------------------------------

_DIRECTIVE_RE = re.compile(r"(?<![\w/])(?P<year>(?:19|20)?\d\d)/(?P<num>\d{1,4})/(?:EU|EG|EEG)\b")
_REGULATION_RE = re.compile(
    r"\b[Ff]örordning(?:en)? \((?:EU|EG|EEG)\) (?:(?P<nr>nr\.? ?)(?P<a>\d{1,4})/(?P<b>\d{2,4})"
    r"|(?P<y>(?:19|20)\d\d)/(?P<n>\d{1,4}))\b")


def _full_year(year: str) -> int:
    value = int(year)
    return value if value >= 100 else value + (1900 if value >= 50 else 2000)


def _eu_acts(text: str) -> Iterator[Found]:
    for m in _DIRECTIVE_RE.finditer(text):
        year, num = _full_year(m.group("year")), int(m.group("num"))
        ref = Reference("eu", f"direktiv-{year}-{num}", f"Direktiv {m.group()}",
                        EUR_LEX.format(celex=f"3{year}L{num:04d}"))
        yield Found(ref, m.start(), m.end(), m.group())
    for m in _REGULATION_RE.finditer(text):
        # Before 2015 regulations were cited "nr number/year"; since then "year/number".
        if m.group("nr"):
            num, year = int(m.group("a")), _full_year(m.group("b"))
        else:
            year, num = int(m.group("y")), int(m.group("n"))
        cited = m.group()[m.group().find("("):]
        ref = Reference("eu", f"forordning-{year}-{num}", f"Förordning {cited}",
                        EUR_LEX.format(celex=f"3{year}R{num:04d}"))
        yield Found(ref, m.start(), m.end(), m.group())


# -- court cases ----------------------------------------------------------------------------

_DASH = "-\u2010\u2011\u2013"  # hyphen-minus, hyphen, non-breaking hyphen, en dash
_EU_CASE_RE = re.compile(rf"\b(?P<court>[CT])[{_DASH}](?P<num>\d{{1,3}})/(?P<yy>\d\d)\b")
_REPORTED_RE = re.compile(r"\b(?P<series>HFD|RÅ|NJA|RH) (?P<year>(?:19|20)\d\d)"
                          r" (?P<how>ref|not|s)\.? ?(?P<num>\d{1,4})\b")
_CASE_NO_RE = re.compile(rf"\b[Mm]ål(?:et)?(?: nr\.?| nummer|nummer) ?(?P<num>\d{{1,6}})"
                         rf"[{_DASH}](?P<yy>\d\d(?:\d\d)?)\b")
_COURT_RE = re.compile(r"\b(?:[Ff]örvaltningsrätten|[Kk]ammarrätten) i [A-ZÅÄÖ][a-zåäö]+"
                       r"|\bHögsta förvaltningsdomstolen\b|\bHFD\b(?! (?:19|20)\d\d)")


def _court_cases(text: str) -> Iterator[Found]:
    for m in _EU_CASE_RE.finditer(text):
        case = f"{m.group('court')}-{m.group('num')}/{m.group('yy')}"
        ref = Reference("mal", slugify(case), f"Mål {case}", CURIA.format(case=case))
        yield Found(ref, m.start(), m.end(), m.group())
    for m in _REPORTED_RE.finditer(text):
        label = f"{m.group('series')} {m.group('year')} {m.group('how')}. {m.group('num')}"
        yield Found(Reference("mal", slugify(label), label), m.start(), m.end(), m.group())
    for m in _CASE_NO_RE.finditer(text):
        number = f"{m.group('num')}-{m.group('yy')}"
        courts = list(_COURT_RE.finditer(text, max(0, m.start() - CONTEXT_CHARS), m.start()))
        court = _court_name(courts[-1].group()) if courts else ""
        label = f"{court}, mål nr {number}" if court else f"Mål nr {number}"
        yield Found(Reference("mal", slugify(label), label), m.start(), m.end(), m.group())


def _court_name(text: str) -> str:
    if text == "HFD":
        return "Högsta förvaltningsdomstolen"
    return text[:1].upper() + text[1:]


# -- organisations --------------------------------------------------------------------------

# Key, pattern, label, website.
_ORGS: tuple[tuple[str, str, str, str | None], ...] = (
    ("konkurrensverket", r"Konkurrensverket|KKV", "Konkurrensverket",
     "https://www.konkurrensverket.se/"),
    ("upphandlingsmyndigheten", r"Upphandlingsmyndigheten", "Upphandlingsmyndigheten",
     "https://www.upphandlingsmyndigheten.se/"),
    ("skr", r"SKR|SKL|Sveriges [Kk]ommuner och (?:[Rr]egioner|[Ll]andsting)",
     "Sveriges Kommuner och Regioner (SKR)", "https://skr.se/"),
    # "ett forum för dialog" is lower case; "Forum för levande historia" is an agency.
    ("forum", r"Forum(?! för)", "Forum – idéburna organisationer med social inriktning",  # noqa: RUF001
     "https://www.socialforum.se/"),
    ("famna", r"Famna", "Famna – idéburen vård och omsorg",  # noqa: RUF001
     "https://famna.org/"),
    ("giva-sverige", r"Giva Sverige", "Giva Sverige", "https://www.givasverige.se/"),
    ("mucf", r"MUCF|Myndigheten för ungdoms- och civilsamhällesfrågor",
     "Myndigheten för ungdoms- och civilsamhällesfrågor (MUCF)", "https://www.mucf.se/"),
    ("kammarkollegiet", r"Kammarkollegiet", "Kammarkollegiet", "https://www.kammarkollegiet.se/"),
    ("europeiska-kommissionen", r"Europeiska [Kk]ommissionen|EU-kommissionen",
     "Europeiska kommissionen", "https://commission.europa.eu/"),
    ("eu-domstolen", r"(?:EU|EG)-domstolen|EU:s domstol|Europeiska unionens domstol",
     "EU-domstolen", "https://curia.europa.eu/"),
    ("hogsta-forvaltningsdomstolen", r"Högsta förvaltningsdomstolen|HFD(?! (?:19|20)\d\d)",
     "Högsta förvaltningsdomstolen", "https://www.domstol.se/hogsta-forvaltningsdomstolen/"),
    ("socialstyrelsen", r"Socialstyrelsen", "Socialstyrelsen", "https://www.socialstyrelsen.se/"),
)
_ORG_RES = tuple((key, re.compile(rf"\b(?:{pattern})\b"), label, url)
                 for key, pattern, label, url in _ORGS)
_LOCAL_COURT_RE = re.compile(
    r"\b(?P<court>[Ff]örvaltningsrätten|[Kk]ammarrätten) i (?P<city>[A-ZÅÄÖ][a-zåäö]+)\b")
_MUNICIPALITY_RE = re.compile(r"\b(?P<name>[A-ZÅÄÖ][a-zåäö]+(?:-[A-ZÅÄÖ][a-zåäö]+)?) kommun\b"
                              r"|\bRegion (?P<region>[A-ZÅÄÖ][a-zåäö]+(?: [A-ZÅÄÖ][a-zåäö]+)?)\b")
# Capitalised at the start of a sentence, these are not names: "Varje kommun måste …".
_NOT_NAMES = frozenset((
    "Varje", "En", "Ett", "Den", "Denna", "Samma", "Vilken", "Vilket", "Någon", "Ingen", "Annan",
    "Hela", "Vår", "Er", "Din", "Min", "Sin", "Egen", "Varenda", "Stor", "Liten", "Större",
    "Mindre", "Ny", "Nya", "Rik", "Fattig", "Mellanstor", "Svensk", "Sådan", "Dess", "Deras",
    "Och", "Om", "När", "Att", "Som", "För", "Med", "Där", "Här", "Men", "Så", "Då", "Även"))


def _organisations(text: str) -> Iterator[Found]:
    for key, regex, label, url in _ORG_RES:
        for m in regex.finditer(text):
            yield Found(Reference("organisation", key, label, url), m.start(), m.end(), m.group())
    for m in _LOCAL_COURT_RE.finditer(text):
        label = f"{m.group('court').capitalize()} i {m.group('city')}"
        slug = slugify(label)
        yield Found(Reference("organisation", slug, label, DOMSTOL.format(slug=slug)),
                    m.start(), m.end(), m.group())
    for m in _MUNICIPALITY_RE.finditer(text):
        name = m.group("name") or m.group("region")
        if name.split()[0] in _NOT_NAMES:
            continue
        label = f"{name} kommun" if m.group("name") else f"Region {name}"
        yield Found(Reference("organisation", slugify(label), label), m.start(), m.end(), m.group())


_RULES: tuple[Callable[[str], Iterator[Found]], ...] = (
    _act_names, _sfs_numbers, _eu_acts, _court_cases, _organisations)


def find_references(text: str) -> list[Found]:
    """Every reference named in ``text``, in the order they appear (one per span and reference)."""
    found: dict[tuple[str, str, int], Found] = {}
    for rule in _RULES:
        for hit in rule(text):
            found.setdefault((hit.reference.kind, hit.reference.key, hit.start), hit)
    return sorted(found.values(), key=lambda f: (f.start, -f.end))


def _snippet(text: str, hit: Found) -> str:
    start, end = max(0, hit.start - CONTEXT_CHARS), min(len(text), hit.end + CONTEXT_CHARS)
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def extract_references(episode: Episode, transcript: Transcript | None) -> tuple[Mention, ...]:
    """Where the episode mentions each reference: once per segment, and once for the title and
    description together (``segment`` None), in order."""
    mentions: list[Mention] = []
    seen: set[tuple[str, str, int | None]] = set()
    # The description is plain text since ingest (archive.markup.html_to_text): it is not
    # parsed as HTML again, so "a <c" stays as written.
    for text in (episode.title, " ".join(episode.description.split())):
        for hit in find_references(text):
            if (hit.reference.kind, hit.reference.key, None) not in seen:
                seen.add((hit.reference.kind, hit.reference.key, None))
                mentions.append(Mention(hit.reference, episode.id, None, None, None,
                                        _snippet(text, hit)))
    for index, segment in enumerate(transcript.segments if transcript else ()):
        for hit in find_references(segment.text):
            if (hit.reference.kind, hit.reference.key, index) not in seen:
                seen.add((hit.reference.kind, hit.reference.key, index))
                mentions.append(Mention(hit.reference, episode.id, index, segment.start,
                                        segment.end, segment.text.strip()))
    return tuple(mentions)

"""People: those the feed names (``<podcast:person>``, show-note credits) and where they come up.

Only names the publisher gives are used: poddarkiv does not guess names from speech. A person is
found in three ways, recorded as the mention's ``source``:

``feed``         ``<podcast:person>`` on the episode (:attr:`Episode.persons`)
``description``  a credit line in the show notes: ``Gäst: Anna Andersson, jurist på Famna``
``transcript``   a known person's full name said in a segment, with its time
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from poddarkiv.archive.models import Episode, Transcript
from poddarkiv.archive.normalise import slugify

__all__ = ["PersonMention", "PersonSource", "credited_people", "extract_people"]

PersonSource = Literal["feed", "description", "transcript"]

# Credit words (lower case) → Podcasting 2.0 role.
_ROLES = {
    "gäst": "guest", "gäster": "guest", "medverkande": "guest", "intervjuad": "guest",
    "i studion": "guest", "med": "guest", "guest": "guest", "guests": "guest",
    "programledare": "host", "värd": "host", "värdar": "host", "host": "host", "hosts": "host",
}
_CREDIT_RE = re.compile(rf"^\s*(?P<role>{'|'.join(sorted(_ROLES, key=len, reverse=True))})"
                        r"\s*:\s*(?P<names>.+)$", re.IGNORECASE | re.MULTILINE)
_SPLIT_RE = re.compile(r",|;| och | & | and ")
_CAP = r"[A-ZÅÄÖÉÈÜ][\w'\u2019-]+"  # an apostrophe may be typographic
_NAME_RE = re.compile(rf"^\s*({_CAP}(?:\s+(?:af |von |van |de |du )?{_CAP}){{1,3}})")


@dataclass(frozen=True, slots=True)
class PersonMention:
    """A person in an episode: credited (feed or show notes) or named in a segment."""

    slug: str
    name: str
    episode_id: str
    source: PersonSource
    role: str = "guest"
    group: str = "cast"
    href: str | None = None
    img: str | None = None
    segment: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    context: str = ""


def credited_people(episode: Episode) -> tuple[PersonMention, ...]:
    """The episode's ``<podcast:person>`` entries, then show-note credits not already among them."""
    found: dict[str, PersonMention] = {}
    for person in episode.persons:
        slug = slugify(person.name)
        if slug and slug not in found:
            href = person.href if (person.href or "").startswith(("https://", "http://")) else None
            found[slug] = PersonMention(slug, person.name.strip(), episode.id, "feed",
                                        role=person.role, group=person.group, href=href,
                                        img=person.img)
    for line in episode.description.splitlines():  # plain text, a line per block, since ingest
        for credit in _CREDIT_RE.finditer(line):
            role = _ROLES[credit.group("role").lower()]
            for part in _SPLIT_RE.split(credit.group("names")):
                match = _NAME_RE.match(part)
                slug = slugify(match.group(1)) if match else ""
                if match and slug not in found:
                    found[slug] = PersonMention(slug, match.group(1), episode.id, "description",
                                                role=role, context=line.strip())
    return tuple(found.values())


def _name_regex(name: str) -> re.Pattern[str]:
    # The whole name, as spoken or transcribed: any spacing, and the genitive -s.
    words = r"\s+".join(re.escape(w) for w in name.split())
    return re.compile(rf"(?<!\w){words}s?(?!\w)")


def extract_people(episode: Episode, transcript: Transcript | None, *,
                   known: Iterable[str] = ()) -> tuple[PersonMention, ...]:
    """Credited people, then every segment naming a credited or ``known`` person in full."""
    credited = credited_people(episode)
    names = {m.slug: m.name for m in credited}
    for name in known:
        if len(name.split()) >= 2:
            names.setdefault(slugify(name), name.strip())
    patterns = [(slug, name, _name_regex(name)) for slug, name in names.items() if slug]
    mentions: list[PersonMention] = []
    for index, segment in enumerate(transcript.segments if transcript else ()):
        for slug, name, pattern in patterns:
            if pattern.search(segment.text):
                mentions.append(PersonMention(slug, name, episode.id, "transcript", role="",
                                              group="", segment=index, start_s=segment.start,
                                              end_s=segment.end, context=segment.text.strip()))
    return credited + tuple(mentions)

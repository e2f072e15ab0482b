"""A synthetic Swedish podcast corpus, deterministic from a seed.

Used by ``tests/archive/test_relevance.py`` (small, with planted passages to find) and by
``bench/search.py`` (100 and 1,000 hours). Words follow a Zipf-like distribution over a
vocabulary of inflected Swedish words, so frequent and rare terms behave as in real speech;
sentences mix function words and content words roughly as spoken Swedish does.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from poddarkiv.archive.models import Episode, Feed, Segment, Transcript

__all__ = ["SEGMENTS_PER_HOUR", "Planted", "rare_words", "synthetic_corpus", "vocabulary"]

#: About one segment every 5.5 seconds, as Whisper cuts Swedish speech.
SEGMENTS_PER_HOUR = 650
_SEGMENT_S = 3600 / SEGMENTS_PER_HOUR


def _words(text: str) -> list[str]:
    return text.split()


_FUNCTION = _words(
    "och det att i som en på är av för med till den har de inte om ett han men var jag sig "
    "från vi så kan man när år säger hon under också efter eller nu sin där vid mot ska "
    "skulle kommer ut får finns vara blir bara då hur "
)
_STEMS = _words(
    "kommun region förening partnerskap upphandling avtal ersättning tjänst organisation "
    "verksamhet samhälle medlem styrelse projekt beslut domstol ansökan bidrag pengar lag "
    "regel villkor marknad konkurrens leverantör anbud kontrakt personal skola elev lärare "
    "vård patient äldreboende omsorg stöd socialtjänst barn familj ungdom idrott klubb match "
    "tränare spelare kultur bibliotek musik teater konstnär miljö klimat energi trafik buss "
    "cykel bostad hyresgäst fastighet ekonomi budget skatt kostnad intäkt företag arbete jobb "
    "lön facket förhandling politik val parti riksdag regering minister utredning rapport "
    "forskning universitet student digitalisering system data säkerhet integritet hälsa "
    "sjukhus läkare sjuksköterska apotek medicin vaccin polis brott trygghet rättighet frihet "
    "demokrati media tidning journalist radio podcast avsnitt lyssnare fråga svar exempel "
    "problem lösning möjlighet risk "
)
_SUFFIXES = ("", "en", "er", "erna", "ens", "et", "s", "ar", "arna", "na")
_VERBS = _words(
    "gör tycker menar handlar behöver vill tror pratar diskuterar undersöker beslutar ansöker "
    "betalar följer ändrar påverkar skapar bygger driver leder granskar föreslår kritiserar "
    "förklarar berättar "
)
_ADJ = _words(
    "stor liten viktig svår enkel ny gammal offentlig ideell lokal nationell ekonomisk social "
    "juridisk politisk tydlig öppen stark "
)


_SYLLABLES = _words(
    "ka ro sto lin berg mar vik ås ström dal sund ni ta ve gus lo fer brand hem by sjö "
    "tor kel vall näs ham skog lund gren holm ek björk fors mo ra sa el an"
)
#: Distinct rare words, and the share of word slots they fill.
RARE_WORDS = 30_000
RARE_SHARE = 0.03


@dataclass(frozen=True, slots=True)
class Planted:
    """A sentence put into one segment on purpose, for a relevance query to find."""

    episode_id: str
    segment: int
    text: str


def vocabulary(rng: random.Random) -> list[str]:
    """Content words (inflected nouns, verbs, adjectives, compounds) in a shuffled rank order."""
    words = [s + suf for s in _STEMS for suf in rng.sample(_SUFFIXES, 4)]
    words += _VERBS + _ADJ
    words += [a + "s" + b for a, b in zip(rng.sample(_STEMS, 60), rng.sample(_STEMS, 60),
                                          strict=True)]
    rng.shuffle(words)
    return words


def rare_words(rng: random.Random, n: int = RARE_WORDS) -> list[str]:
    """Pseudo-Swedish words from syllables: the long tail of names and rare terms in speech."""
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(out)


def _sentence(rng: random.Random, words: list[str], weights: list[float],
              rare: list[str]) -> str:
    n = rng.randint(6, 18)
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.45:
            out.append(rng.choice(_FUNCTION))
        elif r < 0.45 + RARE_SHARE:
            out.append(rng.choice(rare))
        else:
            out.append(rng.choices(words, weights)[0])
    return " ".join(out).capitalize() + "."


def synthetic_corpus(hours: float, *, seed: int = 1, planted: tuple[Planted, ...] = (),
                     episode_hours: float = 1.0) -> Iterator[tuple[Feed, Episode, Transcript]]:
    """``hours`` of synthetic speech as one-hour episodes over four feeds."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    rare = rare_words(rng)
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(words))]
    feeds = [Feed(id=f"feed{i}", url=f"http://example.invalid/{i}.xml", title=t)
             for i, t in enumerate(("Konkurrenten", "Kommunpodden", "Civilsamhället idag",
                                    "Vårdsnack"))]
    per_episode = max(1, round(SEGMENTS_PER_HOUR * episode_hours))
    total = round(SEGMENTS_PER_HOUR * hours)
    by_segment = {(p.episode_id, p.segment): p.text for p in planted}
    start = datetime(2020, 1, 1, tzinfo=UTC)
    n = 0
    while n * per_episode < total:
        feed = feeds[n % len(feeds)]
        eid = f"ep{n:05d}"
        segs = []
        for i in range(min(per_episode, total - n * per_episode)):
            text = by_segment.get((eid, i)) or _sentence(rng, words, weights, rare)
            segs.append(Segment(start=i * _SEGMENT_S, end=(i + 1) * _SEGMENT_S, text=text))
        title = " ".join(rng.choices(words, weights, k=3)).capitalize()
        episode = Episode(id=eid, feed_id=feed.id, guid=eid, title=title,
                          description=_sentence(rng, words, weights, rare),
                          published=start + timedelta(days=n))
        yield feed, episode, Transcript(eid, "whisper", "sv", tuple(segs))
        n += 1

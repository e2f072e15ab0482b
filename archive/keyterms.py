"""Key terms: the words that set one episode apart from the rest of the archive (tf-idf).

Words are folded and stemmed exactly as the search index does
(:func:`~poddarkiv.archive.analysis.stem`: Snowball plus the definite endings it leaves), so
``upphandling``, ``upphandlingen`` and ``upphandlingar`` count as one term, and so do
``partnerskap`` and ``partnerskapet``; the term is shown as the form the episode used most.
Stop words are Snowball's Swedish list plus the fillers of spoken Swedish (``alltså``,
``liksom``, ``faktiskt``), which transcripts are full of.

Scores are sublinear tf-idf with smoothed idf (``(1 + ln tf) · (ln((1 + N) / (1 + df)) + 1)``),
so a term every episode uses still counts a little, and a corpus of one episode still has terms.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from poddarkiv.archive.analysis import STOP_WORDS as SNOWBALL_STOP_WORDS
from poddarkiv.archive.analysis import fold, stem

__all__ = ["KEY_TERMS_LIMIT", "STOP_WORDS", "KeyTerm", "TermCounts", "count_terms", "key_terms"]

KEY_TERMS_LIMIT = 12
MIN_WORD_CHARS = 3
_WORD = re.compile(r"[^\W\d_]+")
_SPOKEN = """
alltså liksom typ också bara väldigt kanske nog väl ganska lite mer mest många mycket finns få får
fick gör göra gjorde kommer komma kom säga säger sa sade tycker tror vet veta ska skall vill ville
måste kunna går gå gick ta tar tog se ser såg både andra annat annan två tre första sätt fall del
dels bra stor stora olika vissa själva hela just även redan aldrig alltid ofta igen tillbaka ner
fram bort dock därför eftersom medan samt enligt genom bland kring runt hos innan inget inga
någonting idag sen först precis absolut faktiskt egentligen verkligen okej jo nej hej tack
dom bör börjar handlar gäller kallas kallade exempel stället oftast helt ändå eller ens annars
lika sina avsnitt avsnittet avsnittets podd podden poddens podcast nästa senaste förra gång gången
välkommen gav ge ger lät låter fyra fem sex sju åtta nio tio
"""
#: Words never taken as key terms (lower case, unfolded).
STOP_WORDS: frozenset[str] = SNOWBALL_STOP_WORDS | frozenset(_SPOKEN.split())


@dataclass(frozen=True, slots=True)
class TermCounts:
    """How often each term (a folded stem) occurs in one text, and the form it occurred in most."""

    counts: Mapping[str, int]
    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class KeyTerm:
    """One key term of an episode: the stem, the word to show, its tf-idf score and count."""

    term: str
    label: str
    score: float
    count: int


def count_terms(text: str) -> TermCounts:
    """Count the content words of ``text`` by stem, leaving out stop words and short words."""
    counts: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for raw in _WORD.findall(text):
        word = raw.lower()
        if len(word) < MIN_WORD_CHARS or word in STOP_WORDS:
            continue
        term = stem(fold(word))
        counts[term] += 1
        # Acronyms keep their capitals (IOP, SGEI); other words are shown in lower case.
        forms.setdefault(term, Counter())[raw if raw.isupper() else word] += 1
    # The most frequent form; ties go to the shortest, then the first alphabetically.
    labels = {term: min(c.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0]
              for term, c in forms.items()}
    return TermCounts(dict(counts), labels)


def key_terms(counts: TermCounts, *, document_frequency: Mapping[str, int], documents: int,
              limit: int = KEY_TERMS_LIMIT) -> list[KeyTerm]:
    """The ``limit`` best terms by tf-idf against a corpus of ``documents`` episodes.

    ``document_frequency`` maps a term to how many episodes use it; this episode should be
    counted in both (a term missing from the map counts as used by this episode only).
    """
    documents = max(documents, 1)
    scored = []
    for term, tf in counts.counts.items():
        df = max(document_frequency.get(term, 1), 1)
        idf = math.log((1 + documents) / (1 + df)) + 1.0
        score = (1.0 + math.log(tf)) * idf
        scored.append(KeyTerm(term, counts.labels.get(term, term), round(score, 4), tf))
    scored.sort(key=lambda k: (-k.score, -k.count, k.label))
    return scored[:limit]

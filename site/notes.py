"""What a search's notes say, in the reader's language.

The archive returns :class:`~poddarkiv.archive.search.Note` codes with parameters; this module is
the one place that puts them into words. The Swedish sentences are the message ids of the
site's gettext catalogue (``locale/en`` translates them), and the CLI uses the same function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from poddarkiv.archive.search import Note, NoteCode
from poddarkiv.site.i18n import gettext_for

__all__ = ["MESSAGES", "N_", "describe", "describe_all", "fill"]


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue (``pybabel extract`` finds ``N_``); translate later."""
    return message


#: Each note's sentence; ``{name}`` is filled from the note's parameters.
MESSAGES: dict[NoteCode, str] = {
    "query_truncated": N_("Sökningen var för lång och kortades till {max_chars} tecken."),
    "too_many_words": N_("Bara de {max_words} första orden användes."),
    "prefix_too_short": N_("”{prefix}*” är för kort för att söka på början av ord "
                           "(minst {min_chars} bokstäver); sökte på ”{prefix}”."),
    "only_excluded": N_("Sökningen behöver minst ett ord som inte är uteslutet med minus."),
    "no_words": N_("Sökningen innehöll inga ord att söka på."),
    "timed_out": N_("Sökningen tog för lång tid och avbröts. "
                    "Pröva färre ord eller färre ord med asterisk."),
    "no_episode_has_all_words": N_("Inget avsnitt innehåller alla orden. Pröva färre ord, "
                                   "OR mellan orden, eller kontrollera stavningen."),
    "no_episode_has_it": N_("Inget avsnitt innehåller det du sökte. Pröva en annan form eller "
                            "stavning, ett närliggande ord, eller början av ordet följd av * "
                            "(som upphandl*)."),
}


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"  # a parameter an old or odd note lacks: the sentence still reads


def fill(template: str, params: Mapping[str, object]) -> str:
    """``template`` with its ``{name}`` fields filled from ``params``, for search notes and
    episode notes alike: a parameter that is missing reads "…", and a template that cannot
    be filled (a broken translation) is said as it is."""
    try:
        return template.format_map(_Params({k: str(v) for k, v in params.items()}))
    except (AttributeError, IndexError, ValueError):
        return template


def describe(note: Note, gettext: Callable[[str], str]) -> str:
    """The note as a sentence, translated by ``gettext``."""
    return fill(gettext(MESSAGES[note.code]), dict(note.params))


def describe_all(notes: Iterable[Note], lang: str = "sv") -> str | None:
    """All notes as one paragraph in ``lang``, or ``None`` when there are none."""
    gettext = gettext_for(lang)
    text = " ".join(describe(n, gettext) for n in notes)
    return text or None

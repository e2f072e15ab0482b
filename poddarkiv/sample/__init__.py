"""The bundled sample podcast: a small Konkurrenten-like feed in Swedish, with its audio.

*Konkurrenten - exempelarkiv* is a sample written for poddarkiv, not Konkurrensverket's podcast.
Four short episodes on idéburet offentligt partnerskap (IOP) were written as plain-text scripts
(``scripts/<slug>.txt``), spoken by ``espeak-ng -v sv`` and encoded as MP3 (``audio/<slug>.mp3``)
by ``scripts/make-sample``. One episode also carries a publisher transcript
(``transcripts/<slug>.vtt``). ``feed.xml`` writes its URLs with the placeholder ``{base}``, which
:func:`poddarkiv.sample.server.serve_sample` fills in with its own address.

:data:`SAMPLE_EPISODES` describes each episode as the feed does, so that tests of the ingest
pipeline, the transcribers and search can say what they expect without parsing the feed
themselves. The scripts are the reference text for word-error-rate tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "FEED_TITLE",
    "SAMPLE_EPISODES",
    "SampleEpisode",
    "sample_dir",
]

# Swedish typography: an en dash between title and subtitle.
FEED_TITLE = "Konkurrenten \N{EN DASH} exempelarkiv"


def sample_dir() -> Path:
    """The folder holding ``feed.xml``, ``audio/``, ``transcripts/`` and ``scripts/``."""
    # The package ships as plain files (setuptools package-data), never zipped, so its folder is
    # a real directory that the sample server can open files in.
    return Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class SampleEpisode:
    """One episode of the sample feed, as ``feed.xml`` describes it.

    ``keywords`` are words and phrases of the script (lower case, whole words, as written): a
    search of the script or of the publisher transcript finds them. The audio is synthetic speech,
    which a small Whisper model hears imperfectly (``idéburet`` and ``statsstöd`` rarely come
    through), so ``heard_keywords`` are the words that faster-whisper ``base`` (int8, Swedish,
    beam sizes 1 and 5 alike) wrote down when the sample was made: a Whisper transcript of the
    episode should contain most of them. ``published`` is the item's ``pubDate`` in UTC.
    """

    slug: str
    title: str
    guid: str
    season: int
    number: int
    published: datetime
    keywords: tuple[str, ...]
    heard_keywords: tuple[str, ...]
    has_transcript: bool
    script: Path
    audio: Path
    transcript: Path | None

    @property
    def audio_name(self) -> str:
        """The audio file's name, as it appears at the end of the enclosure URL."""
        return self.audio.name

    def script_text(self) -> str:
        """The words spoken in the audio: the script, one sentence a line, joined by spaces."""
        lines = self.script.read_text(encoding="utf-8").splitlines()
        return " ".join(line.strip() for line in lines if line.strip())


def _episode(slug: str, title: str, *, season: int, number: int, published: datetime,
             keywords: tuple[str, ...], heard_keywords: tuple[str, ...],
             has_transcript: bool = False) -> SampleEpisode:
    root = sample_dir()
    return SampleEpisode(
        slug=slug,
        title=title,
        guid=f"konkurrenten-exempel:{slug}",
        season=season,
        number=number,
        published=published,
        keywords=keywords,
        heard_keywords=heard_keywords,
        has_transcript=has_transcript,
        script=root / "scripts" / f"{slug}.txt",
        audio=root / "audio" / f"{slug}.mp3",
        transcript=root / "transcripts" / f"{slug}.vtt" if has_transcript else None,
    )


# In publication order (the feed lists them newest first).
SAMPLE_EPISODES: tuple[SampleEpisode, ...] = (
    _episode(
        "iop-och-upphandling",
        "IOP eller upphandling?",
        season=1, number=1, published=datetime(2024, 3, 12, 6, 0, tzinfo=UTC),
        keywords=("idéburet offentligt partnerskap", "partnerskap", "upphandling", "kommunen",
                  "konkurrensverket", "upphandlingsregler", "lou"),
        heard_keywords=("konkurrenten", "kommunen", "offentlig", "upphandling", "tjänst"),
        has_transcript=True,
    ),
    _episode(
        "statsstod-och-sgei",
        "Statsstöd och partnerskap",
        season=1, number=2, published=datetime(2024, 9, 10, 6, 0, tzinfo=UTC),
        keywords=("statsstöd", "föreningar", "kommun", "eu:s regler", "sgei", "partnerskapet",
                  "statsstödet"),
        heard_keywords=("pengar", "säljer", "marknad"),
    ),
    _episode(
        "sma-foreningar-som-partner",
        "Små föreningar som partner",
        season=2, number=1, published=datetime(2025, 2, 4, 6, 0, tzinfo=UTC),
        keywords=("ideella föreningar", "föreningarna", "frivilliga", "idéburet offentligt "
                  "partnerskap", "kommunen", "partnerskapet", "civilsamhället"),
        heard_keywords=("frivilliga", "insatser", "förankring", "partner"),
    ),
    _episode(
        "rattsfallet-i-alingsas",
        "Rättsfallet i Alingsås",
        season=2, number=2, published=datetime(2025, 5, 13, 5, 0, tzinfo=UTC),
        keywords=("rättsfall", "alingsås kommun", "konkurrensverket", "domstol", "upphandling",
                  "förvaltningsrätten", "kammarrätten", "rättsosäkerhet", "äldreboende"),
        heard_keywords=("konkurrensverket", "upphandling", "göteborg", "kommunen", "kronor",
                        "överklagas"),
    ),
)

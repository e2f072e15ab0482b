"""poddarkiv: a Swedish-first podcast archive with search.

Feeds are fetched (``poddarkiv.ingest``), episodes transcribed with Whisper, transcripts kept in a
catalogue and indexed in Whoosh (``poddarkiv.archive``), and served by a Starlette site
(``poddarkiv.site``).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

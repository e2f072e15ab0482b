"""The Whoosh index of the archive: writing episodes, searching, rebuilding.

Layout: the index directory (``DataDir.index``) holds generations, ``gen-<stamp>/``, and a file
``CURRENT`` naming the one in use. :meth:`ArchiveIndex.rebuild` builds a new generation beside
the old and swaps ``CURRENT`` atomically, so searches never see a half-built index; the
previous generation is kept for searchers still reading it, older ones are removed.

One writer at a time: writes wait up to :data:`WRITE_LOCK_TIMEOUT_S` for Whoosh's lock and then
raise :class:`~poddarkiv.errors.IndexError_` (never ``LockError``); a failed write is cancelled,
its lock released and the files it wrote removed, even when cancelling itself fails (a full disk;
:func:`~poddarkiv.archive.index.writes.abandon`).
Searchers are shared between threads (see :mod:`~poddarkiv.archive.index.patches`) and replaced, at
most every :data:`REFRESH_INTERVAL_S`, when another process committed; our own commits refresh
at once.

A damaged index never escapes as Whoosh's own exceptions: an index that will not open is opened
*broken*, and it and every failed read raise :class:`~poddarkiv.errors.IndexError_` naming
``poddarkiv reindex``; :meth:`ArchiveIndex.rebuild` works on a broken index and repairs it.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh import query as wq
from whoosh.index import FileIndex
from whoosh.searching import Searcher
from whoosh.writing import LockError, SegmentWriter

from poddarkiv.archive.analysis import new_splitter
from poddarkiv.archive.index.decoded import WARM_MAX_TERMS, WARM_MIN_DOCS, DecodedIndex
from poddarkiv.archive.index.documents import episode_docs, vocabulary
from poddarkiv.archive.index.episode_infos import EpisodeInfos, episode_info
from poddarkiv.archive.index.generations import (
    current_generation,
    new_generation,
    prune_generations,
    read_current,
    reindex_needed,
    set_current,
)
from poddarkiv.archive.index.patches import patch_whoosh
from poddarkiv.archive.index.related import related_episodes
from poddarkiv.archive.index.schema import (
    EPISODE,
    SPELL_FIELD,
    build_schema,
)
from poddarkiv.archive.index.searching import run_search
from poddarkiv.archive.index.stored import StoredCodec
from poddarkiv.archive.index.writes import abandon
from poddarkiv.archive.models import Episode, EpisodeThemes, Feed, Transcript
from poddarkiv.archive.query.synonyms import SYNONYMS_FILE, Synonyms, load_synonyms
from poddarkiv.archive.search import SearchPage, SearchRequest
from poddarkiv.archive.store import Catalogue
from poddarkiv.errors import IndexError_, PoddarkivError

__all__ = ["REFRESH_INTERVAL_S", "WRITE_LOCK_TIMEOUT_S", "ArchiveIndex", "EpisodeThemes"]

#: How long a write waits for another writer before giving up.
WRITE_LOCK_TIMEOUT_S = 30.0
_WRITE_LOCK_POLL_S = 0.1
#: Searchers check for other processes' commits at most this often.
REFRESH_INTERVAL_S = 1.0
#: Rebuild: Whoosh's indexing memory limit (MB) per writer.
REBUILD_LIMITMB = 256

patch_whoosh()

IndexItem = tuple[Feed, Episode, Transcript | None, EpisodeThemes | None]


@contextmanager
def _reading() -> Iterator[None]:
    """Turn Whoosh's exceptions from a damaged index (EOFError, zlib.error, struct.error,
    UnpicklingError, …) into :class:`IndexError_`; ours pass through."""
    try:
        yield
    except PoddarkivError:
        raise
    except Exception as exc:
        raise IndexError_(f"the search index cannot be read ({type(exc).__name__}: {exc}); "
                          "run `poddarkiv reindex`") from exc


def _changed_since(catalogue: Catalogue, episode_id: str, since: datetime) -> bool:
    info = catalogue.transcript_info(episode_id)
    return info is not None and info.created >= since


class ArchiveIndex:
    """The search index: thread-safe; open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, root: Path, *, synonyms: Synonyms,
                 write_timeout_s: float = WRITE_LOCK_TIMEOUT_S) -> None:
        self.root = root
        self.synonyms = synonyms
        self.splitter = new_splitter()
        self.schema = build_schema(self.splitter)
        self._write_timeout_s = write_timeout_s
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._gen = current_generation(root, self.schema)
        self._ix: FileIndex | None = None
        self._broken: IndexError_ | None = None
        try:
            self._ix = self._open_ix(self._gen)
        except IndexError_ as exc:
            self._broken = exc
        self._searcher: Searcher | None = None
        self._checked = 0.0
        self._leases: dict[int, int] = {}
        self._retired: list[Searcher] = []
        self._infos: tuple[Searcher, EpisodeInfos] | None = None
        self._decoded = DecodedIndex()
        self._vocab_loaded = False

    @classmethod
    def open(cls, path: Path, *, synonyms_path: Path | None = None,
             write_timeout_s: float = WRITE_LOCK_TIMEOUT_S) -> ArchiveIndex:
        """Open the index at ``path``, creating it if missing.

        Synonyms come from ``synonyms_path``, else ``synonyms.txt`` beside the index directory
        (in the data directory) when there is one, else the shipped file. An index that exists
        but cannot be read opens :attr:`broken`: reads and writes raise :class:`IndexError_`
        until :meth:`rebuild` replaces it. Raises :class:`IndexError_` only when the index
        directory cannot be created.
        """
        path = Path(path)
        if synonyms_path is None and (path.parent / SYNONYMS_FILE).is_file():
            synonyms_path = path.parent / SYNONYMS_FILE
        return cls(path, synonyms=load_synonyms(synonyms_path), write_timeout_s=write_timeout_s)

    # -- generations --------------------------------------------------------------------

    def _open_ix(self, gen: Path) -> FileIndex:
        try:
            return windex.open_dir(str(gen), schema=self.schema)
        except Exception as exc:  # Whoosh raises many kinds for a broken index
            raise IndexError_(f"cannot open search index {gen}: {exc}; run `poddarkiv reindex`"
                              ) from exc

    def _follow_current(self) -> None:
        """Switch to the generation ``CURRENT`` names, if a rebuild elsewhere changed it.

        A broken index is tried again, in case what broke it has passed.
        """
        gen = read_current(self.root)
        if gen is not None and (gen != self._gen or self._ix is None) and gen.is_dir():
            with self._lock:
                self._ix = self._open_ix(gen)
                self._gen = gen
                self._broken = None
                self._retire_searcher()

    @property
    def broken(self) -> IndexError_ | None:
        """Why the index could not be opened, or ``None``; :meth:`rebuild` repairs it."""
        return self._broken

    def _usable(self) -> FileIndex:
        if self._ix is None:
            raise self._broken or IndexError_("the search index is not open")
        return self._ix

    @property
    def needs_reindex(self) -> bool:
        """The index was made by another version of poddarkiv: run ``poddarkiv reindex``."""
        needed: bool = reindex_needed(self._gen)
        return needed

    # -- searchers ----------------------------------------------------------------------

    def _retire_searcher(self) -> None:
        if self._searcher is not None:
            self._retired.append(self._searcher)
            self._searcher = None
        self._close_idle()

    def _close_idle(self) -> None:
        for s in list(self._retired):
            if not self._leases.get(id(s)):
                s.close()
                self._retired.remove(s)

    @contextmanager
    def searcher(self) -> Iterator[Searcher]:
        """A current searcher, shared between threads; do not keep it past the ``with``."""
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= REFRESH_INTERVAL_S or self._searcher is None:
                self._checked = now
                self._follow_current()
                if self._searcher is not None and not self._searcher.up_to_date():
                    self._retire_searcher()
            if self._searcher is None:
                with _reading():
                    self._searcher = self._usable().searcher()
            s = self._searcher
            self._leases[id(s)] = self._leases.get(id(s), 0) + 1
        try:
            yield s
        finally:
            with self._lock:
                self._leases[id(s)] -= 1
                self._close_idle()

    def refresh(self) -> None:
        """Make the next search see every commit, ours or another process's."""
        with self._lock:
            self._checked = 0.0

    # -- writing ------------------------------------------------------------------------

    @contextmanager
    def _writer(self, ix: FileIndex | None = None, **kwargs: Any) -> Iterator[SegmentWriter]:
        with self._write_lock:
            if ix is None:
                self._follow_current()
                ix = self._usable()
            try:
                writer = ix.writer(timeout=self._write_timeout_s, delay=_WRITE_LOCK_POLL_S,
                                   codec=StoredCodec(), **kwargs)
            except LockError as exc:
                raise IndexError_("the search index is busy with another writer; "
                                  "try again shortly") from exc
            except PoddarkivError:
                raise
            except Exception as exc:
                raise IndexError_(f"cannot write the search index: {exc}; "
                                  "run `poddarkiv reindex`") from exc
            try:
                yield writer
                writer.commit()
            except BaseException as exc:
                abandon(ix, writer)
                if isinstance(exc, IndexError_ | KeyboardInterrupt):
                    raise
                raise IndexError_(f"writing the search index failed: {exc}") from exc
        self.refresh()

    def _learn_vocabulary(self, items: list[IndexItem]) -> None:
        """Teach the compound splitter the corpus's words (the index's, then this batch's)."""
        if not self._vocab_loaded:
            with self.searcher() as s, _reading():
                if SPELL_FIELD in s.schema:
                    self.splitter.add_words(b.decode("utf-8") for b in s.lexicon(SPELL_FIELD))
            self._vocab_loaded = True
        self.splitter.add_words(vocabulary(t for _, _, t, _ in items if t is not None))

    def index_episode(self, feed: Feed, episode: Episode, transcript: Transcript | None, *,
                      themes: EpisodeThemes | None = None) -> None:
        """Replace the episode's documents with new ones, in one commit."""
        self.index_many([(feed, episode, transcript, themes)])

    def index_many(self, items: Iterable[IndexItem]) -> int:
        """Replace the documents of each episode in ``items``; one commit; returns the count."""
        batch = list(items)
        if not batch:
            return 0
        self._learn_vocabulary(batch)
        with self._writer() as w:
            for feed, episode, transcript, themes in batch:
                w.delete_by_term("episode_id", episode.id)
                for doc in episode_docs(feed, episode, transcript, themes):
                    w.add_document(**doc)
        return len(batch)

    def remove_episode(self, episode_id: str) -> None:
        """Remove every document of the episode."""
        with self._writer() as w:
            w.delete_by_term("episode_id", episode_id)

    def rebuild(self, catalogue: Catalogue, *,
                themes_for: Callable[[Episode, Transcript | None], EpisodeThemes | None]
                | None = None) -> int:
        """Build a fresh index from the catalogue beside the old one and swap it in atomically.

        Episodes that another process transcribes while the rebuild runs are caught up in a
        second, short commit before the swap. Returns the number of episodes indexed.
        """
        with self._write_lock:
            gen = new_generation(self.root, self.schema)
        started = datetime.now(UTC)
        try:
            ix = self._open_ix(gen)
            done = self._build(ix, catalogue, catalogue.episodes(), themes_for,
                               limitmb=REBUILD_LIMITMB)
            late = [ep for ep in catalogue.episodes() if ep.id not in done
                    or _changed_since(catalogue, ep.id, started)]
            if late:
                done |= self._build(ix, catalogue, late, themes_for)
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        self._swap_to(gen)
        return len(done)

    def _build(self, ix: FileIndex, catalogue: Catalogue, episodes: Iterable[Episode],
               themes_for: Callable[[Episode, Transcript | None], EpisodeThemes | None] | None,
               **writer_options: Any) -> set[str]:
        feeds = {f.id: f for f in catalogue.feeds()}
        done = set()
        with self._writer(ix, **writer_options) as w:
            for episode in episodes:
                feed = feeds.get(episode.feed_id) or Feed(id=episode.feed_id, url="")
                transcript = catalogue.transcript(episode.id)
                self.splitter.add_words(vocabulary([transcript] if transcript else []))
                themes = themes_for(episode, transcript) if themes_for else None
                w.delete_by_term("episode_id", episode.id)
                for doc in episode_docs(feed, episode, transcript, themes):
                    w.add_document(**doc)
                done.add(episode.id)
        return done

    def _swap_to(self, gen: Path) -> None:
        with self._lock:
            previous = self._gen
            set_current(self.root, gen)
            self._follow_current()
            prune_generations(self.root, (gen, previous))

    # -- reading ------------------------------------------------------------------------

    def doc_counts(self) -> tuple[int, int]:
        """``(episode documents, segment documents)``."""
        with self.searcher() as s, _reading():
            # doc_frequency would count deleted documents until segments merge.
            episodes = sum(1 for _ in s.docs_for_query(wq.Term("kind", EPISODE)))
            return episodes, s.doc_count() - episodes

    def version(self) -> str:
        """A token that changes with every commit a search would see (for ETags): the
        generation folder and Whoosh's table-of-contents generation; cheap, where counting
        the documents (:meth:`doc_counts`) grows with the archive."""
        with self.searcher() as s:
            return f"{self._gen.name}:{s.reader().generation()}"

    def _episode_infos(self, s: Searcher) -> EpisodeInfos:
        """Every episode's display fields, by ``episode_key``; read once per searcher."""
        with self._lock:
            if self._infos is not None and self._infos[0] is s:
                return self._infos[1]
        infos = EpisodeInfos(episode_info(s.stored_fields(docnum))
                             for docnum in s.docs_for_query(wq.Term("kind", EPISODE)))
        with self._lock:
            self._infos = (s, infos)
        return infos

    def search(self, request: SearchRequest) -> SearchPage:
        """One page of results; problems with the query come back as ``notes``."""
        with self.searcher() as s, _reading():
            return run_search(self._decoded.view_of(s, self._gen.name), request,
                              splitter=self.splitter,
                              synonyms=self.synonyms, episodes=lambda: self._episode_infos(s))

    def warm(self, *, min_docs: int = WARM_MIN_DOCS, limit: int = WARM_MAX_TERMS) -> int:
        """Decode the postings of the most frequent terms now, so no search pays for them.

        Terms in at least ``min_docs`` segments are the ones whose first decoding a reader
        would notice; returns how many were decoded.
        """
        with self.searcher() as s, _reading():
            return self._decoded.warm(s, self._gen.name, min_docs=min_docs, limit=limit)

    def related(self, episode_id: str, *, limit: int = 5) -> list[str]:
        """Ids of episodes most like this one (more-like-this on transcript and metadata)."""
        with self.searcher() as s, _reading():
            ids: list[str] = related_episodes(s, episode_id, limit=limit)
            return ids

    def indexed_episode_ids(self) -> set[str]:
        """Ids of every episode that has documents in the index (deleted ones excluded)."""
        with self.searcher() as s, _reading():
            return {s.stored_fields(n)["episode_id"]
                    for n in s.docs_for_query(wq.Term("kind", EPISODE))}

    def close(self) -> None:
        """Close every searcher; the index stays on disk."""
        with self._lock:
            self._retire_searcher()
            for s in self._retired:
                s.close()
            self._retired.clear()

    def __enter__(self) -> ArchiveIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

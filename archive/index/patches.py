"""Fixes to Whoosh 2.7.4, applied when the index module is imported.

**Speed.** ``W3PerDocReader._cached_reader`` caches column readers but not their absence: for
every posting of a field without a lengths column (ID, KEYWORD, NUMERIC and spelling fields),
writing a segment asks the file system whether the column file exists. cProfile put that
``stat`` at about a quarter of indexing time. A segment's columns never change once written, so
absence is cached too.

**Speed.** ``W3LeafMatcher.skip_to`` walks a block's ids one at a time, through three method
calls per id; intersecting two words' postings (every two-word search) spent most of its time
there. Here it bisects the block's decoded ids instead, with the same result.

**Speed and memory.** A file inside a compound segment (every column of a segment) is opened
as a ``BufferFile`` over the memory-mapped segment, and its constructor copied the whole file
into a ``BytesIO`` for the few readers that ``seek`` and ``read``; the column readers only
``get`` slices. The stored fields' column is most of a segment (130 MB at 1,000 hours), so each
new searcher, that is each commit, copied it: 0.1 to 0.4 s on the first search after a commit,
and the memory until the old searcher closed. Here the stream is made on first use only (a new
view at 1,000 hours: 90 to 400 ms → 4 to 17 ms).

**Thread safety.** A searcher is shared by the site's threads, but two of Whoosh's readers move
a file position that the threads share, so one thread's ``seek`` lands between another's
``seek`` and ``read`` and the second reads garbage (``zlib.error``, ``UnpicklingError``,
``UnicodeDecodeError``, "Block tag error"). It shows most after a commit, when a fresh searcher's
readers are built and its postings first read by several threads at once:

- every postings matcher of a segment (``W3LeafMatcher``) reads block headers from the one
  postings file with ``seek``/``read``; here it reads them with the position-free ``get``;
- a column reader is built lazily, on first use, by ``seek``/``read`` on a column file that is
  cached per field; here it is built under a lock, once.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from io import BytesIO
from pickle import load
from typing import Any

import whoosh
from whoosh.codec import whoosh3
from whoosh.filedb import structfile
from whoosh.matching import ReadTooFar
from whoosh.system import _INT_SIZE, unpack_int

__all__ = ["patch_whoosh"]

_PATCHED_VERSION = (2, 7, 4)
_COLUMN_LOCK = threading.Lock()
_STREAM_LOCK = threading.Lock()


def _cached_reader(self: Any, fieldname: str, column: Any) -> Any:
    readers = self._readers
    try:
        return readers[fieldname]
    except KeyError:
        pass
    with _COLUMN_LOCK:
        if fieldname not in readers:
            readers[fieldname] = (self.column_reader(fieldname, column)
                                  if self.has_column(fieldname) else None)
        return readers[fieldname]


def _read_header(self: Any) -> None:
    magic = self._postfile.get(self._startoffset, 4)
    if magic != whoosh3.WHOOSH3_HEADER_MAGIC:
        raise Exception(f"Block tag error {magic!r}")
    self._baseoffset = self._startoffset + 4


def _goto(self: Any, position: int) -> None:
    postfile = self._postfile
    self._data = self._ids = self._weights = self._values = None
    self._i = 0
    length = unpack_int(postfile.get(position, _INT_SIZE))[0]
    if length < 0:  # the last block
        self._lastblock = True
        length = -length
    start = position + _INT_SIZE
    self._nextoffset = start + length
    block = BytesIO(postfile.get(start, length))
    info = load(block)
    self._dataoffset = start + block.tell()
    (self._blocklength, self._maxid, self._maxweight, self._compression,
     mnlen, mxlen) = info
    self._minlength = whoosh3.byte_to_length(mnlen)
    self._maxlength = whoosh3.byte_to_length(mxlen)


def _skip_to(self: Any, targetid: Any) -> None:
    """Move to the first posting whose id is at least ``targetid`` (or past the end)."""
    if self._atend or self._i >= self._blocklength:
        raise ReadTooFar
    if self._ids is None:
        self._read_ids()
    if targetid <= self._ids[self._i]:
        return
    if targetid > self._maxid:  # skip whole blocks by their headers, without decoding them
        while targetid > self._maxid:
            self._next_block()
            if self._atend:
                return
        self._read_ids()
    # The block's largest id is >= targetid, so the position found lies inside the block.
    self._i = bisect_left(self._ids, targetid, self._i)


def _buffer_init(self: Any, buf: Any, name: str | None = None, onclose: Any = None) -> None:
    self._buf = buf
    self._name = name
    self._stream = None
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


def _buffer_stream(self: Any) -> Any:
    """The file as a stream, for Whoosh's ``seek``/``read`` methods: made on first use."""
    if self._stream is None:
        with _STREAM_LOCK:
            if self._stream is None:
                self._stream = BytesIO(self._buf)
    return self._stream


def _set_buffer_stream(self: Any, stream: Any) -> None:
    self._stream = stream


def _buffer_close(self: Any) -> None:
    if self.is_closed:
        raise Exception("This file is already closed")
    if self.onclose:
        self.onclose(self)
    if self._stream is not None:
        self._stream.close()
    self.is_closed = True


def patch_whoosh() -> None:
    """Apply the fixes; raise :class:`ImportError` on a Whoosh they were not written for.

    They replace private methods of Whoosh 2.7.4 (``pyproject.toml`` pins that version). On
    another version they could silently stop applying, which would switch off the thread-safety
    fix, so the mismatch is loud instead.
    """
    version = tuple(whoosh.__version__[:3])
    if version != _PATCHED_VERSION:
        raise ImportError(f"poddarkiv needs Whoosh {'.'.join(map(str, _PATCHED_VERSION))} "
                          f"(its index reader is patched), not {whoosh.__version__}")
    for cls, name in ((whoosh3.W3PerDocReader, "_cached_reader"),
                      (structfile.BufferFile, "__init__"), (structfile.BufferFile, "close"),
                      (whoosh3.W3LeafMatcher, "_read_header"), (whoosh3.W3LeafMatcher, "_goto"),
                      (whoosh3.W3LeafMatcher, "skip_to"), (whoosh3.W3LeafMatcher, "_read_data"),
                      (whoosh3.W3LeafMatcher, "_next_block")):
        if not callable(getattr(cls, name, None)):
            raise ImportError(f"Whoosh's {cls.__name__}.{name} is missing: cannot patch it")
    whoosh3.W3PerDocReader._cached_reader = _cached_reader
    structfile.BufferFile.__init__ = _buffer_init
    structfile.BufferFile.file = property(_buffer_stream, _set_buffer_stream)
    structfile.BufferFile.close = _buffer_close
    whoosh3.W3LeafMatcher._read_header = _read_header
    whoosh3.W3LeafMatcher._goto = _goto
    whoosh3.W3LeafMatcher.skip_to = _skip_to

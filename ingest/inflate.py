"""Decompress an HTTP body in bounded steps, so a size cap can stop a gzip bomb.

httpx decompresses a whole network chunk at once: 64 KiB of gzipped zeros become 64 MiB in one
call. :class:`Inflater` asks zlib for at most :data:`STEP_BYTES` at a time and hands each piece
out before producing the next, so the caller can count the decompressed bytes and stop at its
cap with only one step in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from poddarkiv.errors import FetchError

__all__ = ["STEP_BYTES", "Inflater"]

STEP_BYTES = 64 * 1024

_GZIP = 16 + zlib.MAX_WBITS
_IDENTITY = ("", "identity")


class Inflater:
    """Undo one ``Content-Encoding``: identity, gzip (also multi-member) or deflate."""

    def __init__(self, content_encoding: str, *, url: str = "") -> None:
        self._encoding = content_encoding.strip().lower()
        self._url = url
        if self._encoding not in (*_IDENTITY, "gzip", "x-gzip", "deflate"):
            raise FetchError(f"unsupported Content-Encoding {content_encoding!r}", url=url)
        self._zlib: zlib._Decompress | None = None
        if self._encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(_GZIP)

    def _start_deflate(self, data: bytes) -> None:
        # RFC 9110 §8.4.1.2 says zlib-wrapped, but some servers send raw deflate.
        wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decompressed pieces of ``data``, each at most :data:`STEP_BYTES` long."""
        if self._encoding in _IDENTITY:
            if data:
                yield data
            return
        if self._zlib is None:
            self._start_deflate(data)
        while data and self._zlib is not None:
            try:
                out = self._zlib.decompress(data, STEP_BYTES)
            except zlib.error as exc:
                raise FetchError(f"corrupt {self._encoding} body: {exc}", url=self._url) from exc
            if out:
                yield out
            if self._zlib.eof:
                data = self._zlib.unused_data
                if data and self._encoding != "deflate":
                    self._zlib = zlib.decompressobj(_GZIP)  # the next gzip member
                else:
                    data = b""
            else:
                data = self._zlib.unconsumed_tail

    def flush(self) -> bytes:
        """What zlib still holds once all input has been fed (small: at most one window)."""
        if self._zlib is None:
            return b""
        try:
            return self._zlib.flush(STEP_BYTES)
        except zlib.error as exc:
            raise FetchError(f"corrupt {self._encoding} body: {exc}", url=self._url) from exc

"""One fix to Whoosh 2.7.4, applied when the index module is imported.

``W3PerDocReader._cached_reader`` caches column readers but not their absence: for every posting
of a field without a lengths column (ID, KEYWORD, NUMERIC and spelling fields), writing a segment
asks the file system whether the column file exists. cProfile put that ``stat`` at about a quarter
of indexing time. A segment's columns never change once written, so absence is cached too.
"""

from __future__ import annotations

from typing import Any

import whoosh
from whoosh.codec import whoosh3

__all__ = ["patch_whoosh"]

_PATCHED_VERSION = (2, 7, 4)


def _cached_reader(self: Any, fieldname: str, column: Any) -> Any:
    readers = self._readers
    if fieldname not in readers:
        readers[fieldname] = (self.column_reader(fieldname, column)
                              if self.has_column(fieldname) else None)
    return readers[fieldname]


def patch_whoosh() -> bool:
    """Apply the fix if this is the Whoosh it was written for; return whether it was applied."""
    if tuple(whoosh.__version__[:3]) != _PATCHED_VERSION:
        return False
    whoosh3.W3PerDocReader._cached_reader = _cached_reader
    return True

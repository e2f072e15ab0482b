"""What a hit shows about its episode, read once per searcher, with its themes as arrays.

Every search filters its matches to known episodes and counts their themes for the facet list.
Done per episode in Python, that was a loop over every matching episode (a thousand for a
frequent word at 1,000 hours, about a tenth of a two-word search); here it is array work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from poddarkiv.archive.index.arrays import IntArray, member
from poddarkiv.archive.index.schema import episode_key

__all__ = ["EpisodeInfo", "EpisodeInfos", "episode_info"]


@dataclass(frozen=True, slots=True)
class EpisodeInfo:
    """What a hit shows about its episode, read once per searcher from the episode documents."""

    episode_id: str
    feed_id: str
    title: str
    feed_title: str
    published: datetime | None
    themes: tuple[str, ...]
    description: str = ""


class EpisodeInfos:
    """Every episode's :class:`EpisodeInfo` by episode key; immutable once built."""

    def __init__(self, infos: Iterable[tuple[int, EpisodeInfo]]) -> None:
        self.by_key: Mapping[int, EpisodeInfo] = dict(infos)
        self.keys: IntArray = np.array(sorted(self.by_key), dtype=np.int64)
        names = sorted({t for info in self.by_key.values() for t in info.themes})
        number = {name: i for i, name in enumerate(names)}
        pairs = sorted((k, number[t]) for k, info in self.by_key.items() for t in info.themes)
        self.theme_names = tuple(names)
        self._pair_keys: IntArray = np.array([k for k, _ in pairs], dtype=np.int64)
        self._pair_themes: IntArray = np.array([t for _, t in pairs], dtype=np.int64)

    def known(self, keys: IntArray) -> IntArray:
        """The ``keys`` of episodes known here (a match may outlive a deleted episode
        document until the searcher is refreshed), in their order."""
        found: IntArray = keys[member(self.keys, keys)]
        return found

    def theme_counts(self, keys: IntArray) -> dict[str, int]:
        """How many of the episodes ``keys`` carry each theme: most first, then by name."""
        if not len(self._pair_keys) or not len(keys):
            return {}
        chosen = self._pair_themes[member(np.sort(keys), self._pair_keys)]
        counts = np.bincount(chosen, minlength=len(self.theme_names))
        ranked = sorted((-int(c), i) for i, c in enumerate(counts.tolist()) if c)
        return {self.theme_names[i]: -c for c, i in ranked}


def episode_info(fields: Mapping[str, Any]) -> tuple[int, EpisodeInfo]:
    """An episode document's stored fields as ``(episode key, EpisodeInfo)``."""
    meta = fields.get("meta") or {}
    return episode_key(fields["episode_id"]), EpisodeInfo(
        fields["episode_id"], meta.get("feed_id", ""), meta.get("title", ""),
        meta.get("feed_title", ""), meta.get("published"), tuple(meta.get("themes", ())),
        meta.get("description", ""))

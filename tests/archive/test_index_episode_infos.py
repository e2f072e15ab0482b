"""archive.index.episode_infos: the episodes a search knows, and their themes counted."""

from __future__ import annotations

import numpy as np

from poddarkiv.archive.index.episode_infos import EpisodeInfo, EpisodeInfos


def _info(n: int, *themes: str) -> tuple[int, EpisodeInfo]:
    return n, EpisodeInfo(f"e{n}", "f", f"Avsnitt {n}", "Podden", None, themes)


INFOS = EpisodeInfos([_info(7, "iop", "lou"), _info(3, "lou"), _info(5), _info(9, "iop", "stöd")])


def test_only_known_episodes_are_kept_in_their_order() -> None:
    keys = np.array([9, 4, 3, 8, 7], dtype=np.int64)
    assert INFOS.known(keys).tolist() == [9, 3, 7]


def test_themes_are_counted_over_the_episodes_given_most_first_then_by_name() -> None:
    assert INFOS.theme_counts(np.array([9, 7, 3, 5], dtype=np.int64)) == {
        "iop": 2, "lou": 2, "stöd": 1}
    assert INFOS.theme_counts(np.array([3, 9], dtype=np.int64)) == {
        "iop": 1, "lou": 1, "stöd": 1}
    assert INFOS.theme_counts(np.array([5], dtype=np.int64)) == {}
    assert EpisodeInfos([]).theme_counts(np.array([1], dtype=np.int64)) == {}

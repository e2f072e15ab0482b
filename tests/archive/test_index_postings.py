"""archive.index.postings: Whoosh's stored postings decoded into arrays, exactly."""

from __future__ import annotations

import pickle
import random
import struct
from pathlib import Path

import pytest

from poddarkiv.archive.index import ArchiveIndex, postings
from poddarkiv.archive.index.postings import LeafData, _decode_positions, _position_deltas
from poddarkiv.archive.models import Episode, Feed, Segment, Transcript
from poddarkiv.archive.search import SearchRequest

FEED = Feed(id="f", url="http://example.invalid/f.xml", title="Samtal")


def _episode(eid: str, lines: list[str]) -> tuple[Feed, Episode, Transcript, None]:
    ep = Episode(id=eid, feed_id=FEED.id, guid=eid, title="Ett avsnitt")
    segs = tuple(Segment(i * 5.0, i * 5.0 + 5.0, line) for i, line in enumerate(lines))
    return FEED, ep, Transcript(eid, "whisper", "sv", segs), None


def _cached_keys() -> set[object]:
    return set(postings._CACHE._items)


def _value(deltas: list[int]) -> bytes:
    # whoosh.formats.Positions.encode: the count, then pickle.dumps(deltas, 2)
    return struct.pack(">I", len(deltas)) + pickle.dumps(deltas, 2)


def test_a_block_of_positions_is_decoded_in_one_go_exactly() -> None:
    lists = [[3], [1, 5, 200], [70000, 3], [], list(range(300))]
    assert _decode_positions([_value(d) for d in lists]) == lists
    assert _decode_positions([]) == []


def test_a_value_without_its_stop_is_decoded_one_at_a_time() -> None:
    no_stop = struct.pack(">I", 1) + pickle.dumps([9], 2)[:-1]
    assert _decode_positions([_value([2, 4]), no_stop]) == [[2, 4], [9]]


def _slow(values: list[bytes]) -> tuple[list[int], list[int]]:
    lists = _decode_positions(values)
    return [len(d) for d in lists], [x for d in lists for x in d]


def _fast(values: list[bytes]) -> tuple[list[int], list[int]]:
    counts, flat = _position_deltas(values)
    return counts.tolist(), flat.tolist()


def test_small_positions_are_read_as_arrays_exactly_as_unpickled() -> None:
    rng = random.Random(7)
    values = [_value([rng.randrange(256) for _ in range(rng.randrange(1, 40))])
              for _ in range(2_000)]
    assert _fast(values) == _slow(values)


@pytest.mark.parametrize("odd", [
    [300],                      # a delta of 256 or more: another opcode
    list(range(1_200)),         # over 1,000 items: pickle splits its appends
    [],                         # no positions at all
])
def test_any_other_shape_of_value_is_unpickled(odd: list[int]) -> None:
    values = [_value([1, 2]), _value(odd), _value([5])]
    assert _fast(values) == _slow(values) == ([2, len(odd), 1], [1, 2, *odd, 5])


def test_a_value_that_only_looks_like_small_positions_is_not_misread() -> None:
    # The right length and ends, but a BININT2 (M) where a BININT1 (K) should be.
    forged = bytearray(_value([1, 2, 3]))
    forged[10] = ord("M")
    values = [_value([4]), bytes(forged)]
    with pytest.raises(pickle.UnpicklingError):
        _slow(values)
    with pytest.raises(pickle.UnpicklingError):
        _position_deltas(values)


def test_warming_decodes_the_positions_of_frequent_terms_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from poddarkiv.archive.index import view
    monkeypatch.setattr(view, "WARM_POSITIONS_MIN_DOCS", 5)
    lines = [f"Vi talar om upphandling igen, del {i}." for i in range(8)]
    with ArchiveIndex.open(tmp_path / "index") as ix:
        ix.index_many([_episode("a", [*lines, "En gång om avtal och stöd."])])
        decoded: list[str] = []
        real = LeafData.positions

        def counted(self: LeafData, field: str, term: str) -> object:
            if (self.segment_id, "x", field, term) not in _cached_keys():
                decoded.append(term)
            return real(self, field, term)

        monkeypatch.setattr(LeafData, "positions", counted)
        ix.warm(min_docs=5)
        assert "upphandling" in decoded and "avtal" not in decoded
        decoded.clear()
        page = ix.search(SearchRequest(q='"talar om upphandling"'))
        assert page.total_episodes == 1
        assert "upphandling" not in decoded  # warmed: the phrase search did not decode it

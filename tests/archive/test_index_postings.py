"""archive.index.postings: Whoosh's stored postings decoded into arrays, exactly."""

from __future__ import annotations

import pickle
import struct

from poddarkiv.archive.index.postings import _decode_positions


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

"""archive.index.positions: Whoosh's stored positions read as arrays, exactly as unpickled."""

from __future__ import annotations

import pickle
import random
import struct

import pytest

from poddarkiv.archive.index.positions import _decode_positions
from poddarkiv.archive.index.positions import position_deltas as _position_deltas


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

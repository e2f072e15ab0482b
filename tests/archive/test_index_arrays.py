"""Membership in a sorted array, by bisection."""

from __future__ import annotations

import numpy as np

from poddarkiv.archive.index.arrays import member


def test_which_needles_are_in_the_sorted_haystack() -> None:
    haystack = np.array([2, 5, 9, 14], dtype=np.int64)
    needles = np.array([14, 1, 5, 15, 2, 9, 10], dtype=np.int64)
    assert member(haystack, needles).tolist() == [True, False, True, False, True, True, False]


def test_it_agrees_with_numpy_isin_on_random_arrays() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        haystack = np.unique(rng.integers(0, 200, rng.integers(0, 60)))
        needles = rng.integers(-5, 205, rng.integers(0, 60))
        assert member(haystack, needles).tolist() == np.isin(needles, haystack).tolist()


def test_an_empty_haystack_holds_nothing() -> None:
    empty = np.zeros(0, dtype=np.int64)
    assert member(empty, np.array([1, 2], dtype=np.int64)).tolist() == [False, False]
    assert member(empty, empty).tolist() == []

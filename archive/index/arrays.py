"""The array types of the decoded index, and membership in a sorted array.

Document numbers and episode keys are 64-bit integers, scores and term frequencies 32-bit
floats; every module of the decoded index names them with these aliases.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["BoolArray", "FloatArray", "IntArray", "member"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]


def member(haystack: IntArray, needles: IntArray) -> BoolArray:
    """Which ``needles`` are in the sorted ``haystack``: bisection, O(m log n), where
    ``np.isin`` sorts both arrays."""
    if not len(haystack):
        return np.zeros(len(needles), dtype=bool)
    pos = np.minimum(np.searchsorted(haystack, needles), len(haystack) - 1)
    found: BoolArray = haystack[pos] == needles
    return found

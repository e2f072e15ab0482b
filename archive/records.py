"""Frozen records that a search builds by the dozen, built faster.

A frozen dataclass's generated ``__init__`` sets each field with ``object.__setattr__`` (its
own ``__setattr__`` refuses), which looks the attribute up on the type again for every field:
eight fields take 0.64 µs, against 0.39 µs when each slot's descriptor is called directly. A
page of ten search hits builds some fifty such records (passages, snippets, hits, the matches
behind them), a tenth of a one-word search at 1,000 hours. :func:`quick_init` gives a frozen,
slotted dataclass that ``__init__``; everything else (``repr``, equality, hashing, refusing to
be changed, pickling) stays the dataclass's own.

Only plain fields are supported (positional or keyword-only, with or without a default); a
class with ``default_factory``, ``init=False`` fields, ``InitVar`` or ``__post_init__`` is refused
when decorated, so the generated ``__init__`` never differs from the dataclass's.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

__all__ = ["quick_init"]

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Replace the ``__init__`` of a ``@dataclass(frozen=True, slots=True)`` class with one
    that sets its slots directly (see the module)."""
    params = dataclasses.fields(cls)  # type: ignore[arg-type]
    spec: Any = cls  # the dataclass attributes mypy does not know of
    if not getattr(cls, "__slots__", None) or not spec.__dataclass_params__.frozen \
            or hasattr(cls, "__post_init__") or len(params) != len(spec.__dataclass_fields__):
        raise TypeError(f"{cls.__name__}: quick_init needs a frozen, slotted dataclass of "
                        "plain fields without __post_init__")
    namespace: dict[str, Any] = {}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for i, f in enumerate(params):
        if not f.init or f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: quick_init needs plain fields")
        namespace[f"set_{i}"] = cls.__dict__[f.name].__set__
        param = f.name
        if f.default is not dataclasses.MISSING:
            namespace[f"default_{i}"] = f.default
            param += f"=default_{i}"
        (keyword if f.kw_only else positional).append(param)
        body.append(f"    set_{i}(self, {f.name})")
    signature = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    exec(f"def __init__({signature}):\n" + ("\n".join(body) or "    pass"), namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    spec.__init__ = init
    return cls

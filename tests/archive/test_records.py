"""quick_init: a frozen record's faster ``__init__`` builds exactly what the dataclass's would."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field

import pytest

from poddarkiv.archive.records import quick_init


@dataclass(frozen=True, slots=True)
class Plain:
    start: float
    text: str
    marks: tuple[int, ...] = ()
    near: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class Quick:
    """The same fields as :class:`Plain`."""

    start: float
    text: str
    marks: tuple[int, ...] = ()
    near: bool = False


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordOnly:
    a: int
    b: str = "b"


@pytest.mark.parametrize(("args", "kwargs"), [
    ((1.5, "x"), {}),
    ((1.5, "x", (1, 2)), {}),
    ((1.5,), {"text": "x", "near": True}),
    ((), {"start": 0.0, "text": "", "marks": (3,), "near": True}),
])
def test_the_same_fields_as_the_dataclasss_own_init(args: tuple[object, ...],
                                                      kwargs: dict[str, object]) -> None:
    expected = Plain(*args, **kwargs)  # type: ignore[arg-type]
    built = Quick(*args, **kwargs)  # type: ignore[arg-type]
    assert dataclasses.astuple(built) == dataclasses.astuple(expected)
    again = Quick(*args, **kwargs)  # type: ignore[arg-type]
    assert built == again and hash(built) == hash(again)
    assert repr(built) == repr(expected).replace("Plain", "Quick")


def test_wrong_calls_fail_as_they_would() -> None:
    with pytest.raises(TypeError):
        Quick(1.0)  # type: ignore[call-arg]  # text missing
    with pytest.raises(TypeError):
        Quick(1.0, "x", (), False, "one too many")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        KeywordOnly(1)  # type: ignore[misc]
    assert KeywordOnly(a=1) == KeywordOnly(a=1, b="b")


def test_the_record_stays_frozen_and_pickles() -> None:
    built = Quick(1.0, "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.text = "y"  # type: ignore[attr-defined]
    assert pickle.loads(pickle.dumps(KeywordOnly(a=2))) == KeywordOnly(a=2)


def test_a_class_it_cannot_build_exactly_is_refused() -> None:
    @dataclass(frozen=True, slots=True)
    class Computed:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = field(default_factory=list)

    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(slots=True)
    class NotFrozen:
        a: int

    for cls in (Computed, Factory, NoSlots, NotFrozen):
        with pytest.raises(TypeError, match="quick_init"):
            quick_init(cls)

"""The compiled query's tree: values that compare and hash by content (matching's memo keys)."""

from __future__ import annotations

from poddarkiv.archive.query.nodes import AllOf, AnyOf, CompiledQuery, Phrase, Term


def tree(weight: float = 0.7) -> AnyOf:
    return AnyOf((Term("upphandl"), Term("upphandlingsregl", weight),
                  AllOf((Term("upphandl"), Term("regl"))), Phrase(("idebur", "sektor"))))


def test_equal_trees_are_one_key() -> None:
    memo = {tree(): "scored once"}
    assert memo[tree()] == "scored once"
    assert tree() == tree() and hash(tree()) == hash(tree())


def test_a_different_weight_or_order_is_another_tree() -> None:
    assert tree(0.5) != tree()
    assert AllOf((Term("a"), Term("b"))) != AllOf((Term("b"), Term("a")))


def test_a_query_with_no_groups_is_empty() -> None:
    nothing = CompiledQuery((), None, frozenset(), (), ())
    assert nothing.empty
    assert not CompiledQuery((tree(),), None, frozenset({"upphandl"}), (), ()).empty

"""A tiny HTML reader for the site's tests: find elements by tag, id, class or attribute.

The standard library's parser is enough for "does the page have this element with this text";
it is no CSS engine. ``find_all("a", cls="time")`` and ``find(id="t-12")`` cover the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["Element", "parse"]

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}


@dataclass
class Element:
    """One element: its tag, attributes and the text inside it (descendants included)."""

    tag: str
    attrs: dict[str, str]
    text_parts: list[str] = field(default_factory=list)
    children: list[Element] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join("".join(self.text_parts).split())

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self) -> list[Element]:
        out: list[Element] = []
        for child in self.children:
            out.append(child)
            out.extend(child.iter())
        return out

    def find_all(self, tag: str | None = None, *, id: str | None = None,
                 cls: str | None = None, **attrs: str) -> list[Element]:
        return [e for e in self.iter()
                if (tag is None or e.tag == tag) and (id is None or e.attrs.get("id") == id)
                and (cls is None or cls in e.classes)
                and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def find(self, tag: str | None = None, **kwargs: str) -> Element:
        found = self.find_all(tag, **kwargs)
        assert found, f"no element {tag} {kwargs}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(el)
        if tag not in _VOID:
            self.stack.append(el)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        for el in self.stack:
            el.text_parts.append(data)


def parse(html: str) -> Element:
    """The document's root element."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root

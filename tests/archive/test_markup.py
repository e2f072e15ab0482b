"""archive.markup: HTML becomes text in one place, and only once."""

from __future__ import annotations

import subprocess
import sys

from poddarkiv.archive.markup import html_to_text, plain_text


def test_plain_text_keeps_inline_words_together() -> None:
    assert plain_text("<p>Om <b>LOU</b>.</p><p>Och &amp; mer</p>") == "Om LOU. Och & mer"


def test_html_to_text_keeps_blocks_as_lines_and_leaves_scripts_out() -> None:
    markup = ("<h2>Avsnitt 3</h2><p>Om <i>LOU</i>&nbsp;och IOP.</p><script>x()</script>"
              "<ul><li>A</li><li>B</li></ul>")
    assert html_to_text(markup).splitlines() == ["Avsnitt 3", "", "Om LOU och IOP.", "", "A", "",
                                                 "B"]


def test_text_without_markup_is_only_unescaped() -> None:
    assert html_to_text("Fråga &amp; svar\nrad två") == "Fråga & svar\nrad två"


def test_the_caption_parser_loads_neither_analysis_nor_index() -> None:
    code = ("import sys, poddarkiv.ingest.captions; "
            "print(sorted({'whoosh', 'numpy', 'poddarkiv.archive.analysis'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr

"""Write the hostile feed corpus, ``feeds/<case>`` plus ``feeds/<case>.expect``.

The bodies are committed; this script says how each was made (several are too repetitive to
write by hand) and remakes them::

    .venv/bin/python tests/data/hostile/make_feeds.py

Each ``.expect`` holds ``Description`` and ``Outcome`` lines, and optionally ``Headers``,
``Absent`` and ``Contains``; ``tests/reliability/test_hostile_feeds.py`` explains them.
"""

from __future__ import annotations

from pathlib import Path

FEEDS = Path(__file__).resolve().parent / "feeds"
_ENCLOSURE = '<enclosure url="https://cdn.example/{n}.mp3" type="audio/mpeg" length="1000"/>'


def item(n: int, *, title: str | None = None, guid: str | bool = True,
         enc: str | None = None, extra: str = "") -> str:
    """One RSS item; ``guid=False`` leaves it out, a string replaces it."""
    t = title if title is not None else f"Avsnitt {n}"
    g = f'<guid isPermaLink="false">ep-{n}</guid>' if guid is True else (guid or "")
    e = enc if enc is not None else _ENCLOSURE.format(n=n)
    return (f"<item><title>{t}</title>{g}{e}<description>Beskrivning {n}</description>"
            f"{extra}</item>")


def rss(items: list[str], *, head: str = '<?xml version="1.0" encoding="UTF-8"?>',
        pre: str = "", title: str = "Fientlig podd") -> str:
    return (f'{head}\n{pre}<rss version="2.0"><channel><title>{title}</title>'
            f'<link>https://example.org/</link>{"".join(items)}</channel></rss>\n')


def put(name: str, body: str | bytes, desc: str, outcome: str,
        extra: dict[str, str] | None = None) -> None:
    data = body.encode("utf-8") if isinstance(body, str) else body
    (FEEDS / name).write_bytes(data)
    lines = [f"Description: {desc}", f"Outcome: {outcome}"]
    lines += [f"{key}: {value}" for key, value in (extra or {}).items()]
    (FEEDS / f"{name}.expect").write_text("\n".join(lines) + "\n", "utf-8")


def entities() -> None:
    lol = '<!DOCTYPE rss [\n <!ENTITY lol "lol">\n' + "".join(
        f' <!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">\n'
        for i in range(1, 10)) + "]>\n"
    put("billion-laughs.xml",
        rss([item(1, title="Skratt &lol9;",
                  extra="<itunes:summary>&lol9;&lol9;</itunes:summary>")], pre=lol),
        "nested entities that would expand to 3 GB (billion laughs)", "episodes=1",
        {"Absent": "lollollollol"})
    big = "A" * 50_000
    put("huge-entity.xml",
        rss([item(1, title="Stor &big;", extra="<description>" + "&big;" * 2000
                  + "</description>")], pre=f'<!DOCTYPE rss [<!ENTITY big "{big}">]>\n'),
        "one 50 kB entity referenced 2,000 times (100 MB if expanded: quadratic blowup)",
        "episodes=1", {"Absent": "A" * 40})
    put("external-entity.xml",
        rss([item(1, title="Läcka &xxe;")],
            pre='<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'),
        "an external entity naming a local file", "episodes=1", {"Absent": "root:"})
    put("external-parameter-entity.xml",
        rss([item(1)], pre='<!DOCTYPE rss [<!ENTITY % remote SYSTEM '
            '"http://127.0.0.1:9/evil.dtd"> %remote; %all;]>\n'),
        "an external parameter entity that would fetch a DTD", "episodes=1")


def characters() -> None:
    put("forbidden-char-refs.xml",
        rss([item(1, title="Tecken &#xD800;&#x110000;&#0;&#x1F;&#xFFFE; slut"),
             item(2, title="&#55296;&#1114112;")]),
        "references to lone surrogates, past U+10FFFF, NUL, C0 controls and U+FFFE "
        "(feedparser crash inputs)", "episodes=2", {"Contains": "Tecken"})
    put("nul-and-controls.xml",
        rss([item(1, title="Nul\x00byte\x01\x02\x1b[31m röd"),
             item(2, title="Tab\there\x7f\x85ok")]),
        "raw NUL, C0, DEL and C1 control bytes inside text", "episodes=2")
    put("latin1-declared-utf8.xml",
        rss([item(1, title="Rättvisa och förening")]).encode("latin-1"),
        "Latin-1 bytes in a document that declares UTF-8", "episodes=1")
    put("utf8-served-as-latin1.xml",
        rss([item(1, title="Rättvisa och förening")], head='<?xml version="1.0"?>'),
        "UTF-8 bytes with an HTTP header claiming ISO-8859-1", "episodes=1",
        {"Headers": '{"content-type": "application/rss+xml; charset=iso-8859-1"}'})
    put("unknown-charset.xml",
        rss([item(1, title="Okänd")], head='<?xml version="1.0" encoding="x-klingon-42"?>'),
        "an encoding no codec knows", "any")
    put("utf16-no-bom.xml",
        rss([item(1, title="Sexton bitar")],
            head='<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16-le"),
        "UTF-16 without a byte-order mark", "any")


def structure() -> None:
    full = rss([item(1), item(2), item(3)])
    put("truncated.xml", full[: full.index("<item><title>Avsnitt 3") + 30],
        "a download cut off in the middle of the third item", "episodes>=2")
    put("html-page.html",
        "<!doctype html><html><head><title>Välkommen</title></head><body><h1>Vår podd</h1>"
        "<p>Prenumerera!</p></body></html>",
        "an HTML page where a feed should be", "FeedError",
        {"Headers": '{"content-type": "text/html; charset=utf-8"}'})
    put("duplicate-guids.xml",
        rss([item(n, guid="<guid>samma</guid>") for n in (1, 2, 3)]),
        "three items sharing one guid", "episodes=1")
    put("missing-guids.xml",
        rss([item(1, guid=False), item(2, guid=False),
             item(3, guid=False, extra="<link>https://example.org/3</link>"),
             item(4, guid=False, enc="")]),
        "items without guids (identity falls back to the enclosure URL), and one without "
        "audio either (skipped)", "episodes=3")
    lengths = ["-1", "99999999999999999999999999", "abc", "1e309", "0x10", ""]
    put("absurd-enclosure-lengths.xml",
        rss([item(i, enc=f'<enclosure url="https://cdn.example/{i}.mp3" type="audio/mpeg" '
                         f'length="{v}"/>') for i, v in enumerate(lengths)]),
        "enclosure lengths that are negative, huge, not numbers", "episodes=6")
    put("deep-nesting.xml",
        rss([item(1, extra="<description>" + "&lt;div&gt;" * 2000 + "djupt"
                  + "&lt;/div&gt;" * 2000 + "</description>"),
             item(2, extra="<foo>" * 1000 + "x" + "</foo>" * 1000)]),
        "2,000 nested HTML tags in a description and 1,000 nested unknown elements",
        "episodes>=1")
    put("long-title.xml", rss([item(1, title="Lång" * 50_000)]), "a 250 kB title",
        "episodes=1")
    put("not-xml.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary garbage",
        "FeedError")
    put("empty.xml", b"", "an empty body", "FeedError")
    put("looks-like-a-path.xml", b"/etc/passwd",
        "a body that is a local path (feedparser would open it if given a string)",
        "FeedError", {"Absent": "root:"})


def urls_and_titles() -> None:
    def enc(url: str) -> str:
        return f'<enclosure url="{url}" type="audio/mpeg"/>'

    put("hostile-urls.xml",
        rss([item(1, enc=enc("javascript:alert(1)"), extra="<link>javascript:alert(1)</link>"),
             item(2, enc=enc("file:///etc/passwd"), extra="<link>file:///etc/shadow</link>"),
             item(3, enc=enc("data:audio/mpeg;base64,AAAA")),
             item(4, enc=enc("ftp://example.org/4.mp3")),
             item(5, enc=enc("  JaVaScRiPt:alert(1)"))]),
        "javascript:, file:, data: and ftp: URLs in enclosures and links", "any",
        {"Absent": "javascript:"})
    put("hostile-titles.xml",
        rss([item(1, title="../../../etc/passwd", guid="<guid>../../../../etc/passwd</guid>"),
             item(2, title="&lt;script&gt;alert(1)&lt;/script&gt;", guid="<guid>/tmp/x</guid>"),
             item(3, title="<![CDATA[<script>alert(2)</script><img src=x onerror=alert(3)>]]>",
                  guid="<guid>..\\..\\win</guid>")]),
        "titles and guids holding ../, <script> and CDATA-wrapped HTML", "episodes=3")


if __name__ == "__main__":
    FEEDS.mkdir(exist_ok=True)
    entities()
    characters()
    structure()
    urls_and_titles()

"""Swedish first, English in full: negotiation, the visible switch, and a complete catalogue."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from starlette.testclient import TestClient

from poddarkiv.site.i18n import LOCALE_DIR
from tests.site.html_probe import parse


def _h1(client: TestClient, path: str, **headers: str) -> str:
    return parse(client.get(path, headers=headers).text).find("h1").text


def test_swedish_is_the_default(client: TestClient) -> None:
    page = parse(client.get("/om").text)
    assert page.find("html").attrs["lang"] == "sv"
    assert page.find("h1").text == "Om arkivet"


def test_accept_language_chooses_english(client: TestClient) -> None:
    assert _h1(client, "/om", **{"accept-language": "en-GB,en;q=0.9"}) == "About the archive"
    assert _h1(client, "/om", **{"accept-language": "de, sv;q=0.5, en;q=0.4"}) == "Om arkivet"
    assert _h1(client, "/om", **{"accept-language": "en;q=0, fr"}) == "Om arkivet"


def test_the_switch_links_to_this_page_in_english_and_remembers_it(client: TestClient) -> None:
    switch = parse(client.get("/sok?q=iop").text).find("p", cls="lang-switch").find("a")
    assert switch.attrs["lang"] == "en" and switch.text == "English"
    assert switch.attrs["href"] == "/sok?q=iop&lang=en"
    english = client.get(switch.attrs["href"])
    assert parse(english.text).find("html").attrs["lang"] == "en"
    assert "lang=en" in english.headers["set-cookie"]
    # The cookie now carries the choice to pages without the parameter.
    assert _h1(client, "/om") == "About the archive"
    back = parse(client.get("/om").text).find("p", cls="lang-switch").find("a")
    assert back.attrs["href"] == "/om?lang=sv"


def _source_messages() -> set[str]:
    """Every message id in the site's templates and Python (as babel.cfg extracts them)."""
    found = extract_from_dir(
        LOCALE_DIR.parent,
        method_map=[("templates/**.html", "jinja2"), ("**.py", "python")],
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    return {msg if isinstance(msg, str) else msg[0] for _file, _line, msg, _c, _ctx in found}


def test_english_catalogue_translates_every_message() -> None:
    english = read_po((LOCALE_DIR / "en/LC_MESSAGES/messages.po").open("rb"))
    translated = {(m.id if isinstance(m.id, str) else m.id[0]) for m in english
                  if m.id and (m.string if isinstance(m.string, str) else all(m.string or ()))}
    assert _source_messages() - translated == set(), "run the steps in site/locale/README.md"


def test_compiled_catalogues_match_their_sources() -> None:
    for lang in ("sv", "en"):
        folder = LOCALE_DIR / lang / "LC_MESSAGES"
        po = read_po((folder / "messages.po").open("rb"))
        mo = read_mo((folder / "messages.mo").open("rb"))
        compiled = {_key(m.id): _key(m.string) for m in mo if m.id}
        translated = {_key(m.id): _key(m.string) for m in po
                      if m.id and not m.fuzzy and any(_key(m.string))}
        assert set(translated) <= set(compiled), f"pybabel compile ({lang})"
        assert {k: compiled[k] for k in translated} == translated, f"pybabel compile ({lang})"
        assert set(compiled) <= {_key(m.id) for m in po if m.id}, f"pybabel compile ({lang})"


def _key(value: object) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list | tuple) else (str(value),)

"""What makes pages fast must not change them: messages, dict lookups, links, kept lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jinja2
import pytest
from starlette.testclient import TestClient

from poddarkiv.archive.models import Episode
from poddarkiv.archive.store import Catalogue, open_catalogue
from poddarkiv.site import i18n
from poddarkiv.site.resources import CatalogueCache, catalogue_generation
from poddarkiv.site.templating import make_templates
from tests.site.html_probe import parse
from tests.site.site_archive import FEED_ID

#: Templates whose messages are checked against Jinja's own new-style gettext.
MESSAGE_TEMPLATES = [
    '{{ _("Sök") }}|{{ _("Hoppa till innehållet") }}',
    '{{ _("100%% säkert") }}',
    '{{ _("Nya träffar för %(q)s", q="<b>iop</b>") }}',
    '{% trans %}Söktips{% endtrans %}|{% trans q="<i>" %}Nya träffar för {{ q }}{% endtrans %}',
    '{{ ngettext("%(num)d podd", "%(num)d poddar", 1) }}|'
    '{{ ngettext("%(num)d podd", "%(num)d poddar", 3) }}',
    '{% trans count=2 %}{{ count }} podd{% pluralize %}{{ count }} poddar{% endtrans %}',
    # Arguments may have any name, the parameters' own included.
    '{{ _("%(message)s och %(eval_ctx)s", message="<a>", eval_ctx="b") }}|'
    '{{ ngettext("%(num)d %(singular)s", "%(num)d %(plural)s", 2, singular="x", plural="y") }}',
    '{% trans num=3 %}{{ num }} podd{% pluralize %}{{ num }} poddar{% endtrans %}',
    '{% autoescape false %}{{ _("Nya träffar för %(q)s", q="<b>") }}|{{ _("Sök") }}'
    '{% endautoescape %}',
]


def _jinja_new_style(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    translations = i18n.translations(lang)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        translations.gettext, translations.ngettext, newstyle=True)
    return env


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("source", MESSAGE_TEMPLATES)
def test_messages_read_as_with_jinjas_new_style_gettext(source: str, lang: str) -> None:
    ours = make_templates().env
    with i18n.using_language(lang):
        assert ours.from_string(source).render() == _jinja_new_style(lang).from_string(
            source).render()
        # The second time comes from the kept messages, and says the same.
        assert ours.from_string(source).render() == _jinja_new_style(lang).from_string(
            source).render()


def test_a_message_is_translated_in_the_language_of_each_page() -> None:
    template = make_templates().env.from_string('{{ _("Sök i arkivet") }}')
    with i18n.using_language("en"):
        assert template.render() == "Search the archive"
    with i18n.using_language("sv"):
        assert template.render() == "Sök i arkivet"


@pytest.mark.parametrize("expression", [
    "d.title", "d['items']", "d.items is callable", "d.get('title')", "d.missing is defined",
    "d.keys()|list|length", "o.title", "o.missing is defined", "(d.nested.title)",
])
def test_dict_lookups_answer_as_jinjas_own(expression: str) -> None:
    """Keys are read first from plain dicts, but a dict's own methods still win, as in Jinja."""
    class Record:
        title = "attribute"

    values: dict[str, Any] = {"d": {"title": "<b>key</b>", "items": "a key named items",
                                    "nested": {"title": "inner"}}, "o": Record()}
    source = "{{ " + expression + " }}"
    ours = make_templates().env.from_string(source).render(values)
    theirs = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
        source).render(values)
    assert ours == theirs


def _stop() -> None:
    raise StopIteration


class _Greeter:
    def __call__(self, name: str) -> str:
        return f"hej {name}"


CALLS: dict[str, Any] = {
    "plain": lambda *args, **kwargs: f"{args}{sorted(kwargs.items())}",
    "eval_ctx": jinja2.pass_eval_context(lambda ctx, x: f"{ctx.autoescape}:{x}"),
    "context": jinja2.pass_context(lambda ctx, x: f"{ctx.name}:{x}:{ctx.get('y')}"),
    "environment": jinja2.pass_environment(lambda env, x: f"{env.autoescape is not None}:{x}"),
    "greeter": _Greeter(),
    "stop": _stop,
}


@pytest.mark.parametrize("source", [
    "{{ plain() }}|{{ plain(1, 'a<') }}|{{ plain(1, k='v', self=2, obj=3) }}",
    "{{ eval_ctx('x') }}|{% autoescape false %}{{ eval_ctx('y') }}{% endautoescape %}",
    "{% set y = 5 %}{{ context('x') }}|{% for i in [1] %}{{ context(i) }}{% endfor %}",
    "{{ environment('x') }}|{{ greeter('du') }}|{{ 'a,b'.split(',')|join('+') }}",
    "{{ stop() is defined }}|{% macro m(a) %}[{{ a }}{{ caller() }}]{% endmacro %}"
    "{% call m(1) %}inne{% endcall %}",
])
def test_calls_from_templates_answer_as_jinjas_own(source: str) -> None:
    """Plain functions are called directly; every other kind as Jinja calls it."""
    ours = make_templates().env.from_string(source, globals=CALLS)
    theirs = jinja2.Environment(autoescape=True).from_string(source, globals=CALLS)
    assert ours.render() == theirs.render()


def test_a_missing_key_is_still_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError):
        make_templates().env.from_string("{{ d.missing }}").render(d={"title": "x"})


def test_the_language_links_keep_the_query_but_never_lang(client: TestClient) -> None:
    html = parse(client.get("/sok?q=iop&page=1&lang=en").text)
    assert html.find("link", rel="canonical").attrs["href"] == "http://testserver/sok?q=iop&page=1"
    alternates = {a.attrs["hreflang"]: a.attrs["href"] for a in html.find_all(
        "link", rel="alternate") if "hreflang" in a.attrs}
    assert alternates == {"sv": "http://testserver/sok?q=iop&page=1&lang=sv",
                          "en": "http://testserver/sok?q=iop&page=1&lang=en",
                          "x-default": "http://testserver/sok?q=iop&page=1"}
    switch = html.find("p", cls="lang-switch").find("a")
    assert switch.attrs["href"] == "/sok?q=iop&page=1&lang=sv"
    # Another host gets its own absolute links, not the first one's.
    other = parse(client.get("/sok?q=iop&page=1", headers={"host": "arkiv.example"}).text)
    assert other.find("link", rel="canonical").attrs["href"] == (
        "http://arkiv.example/sok?q=iop&page=1")


def _newest(episode_id: str, title: str, year: int) -> Episode:
    return Episode(id=episode_id, feed_id=FEED_ID, guid=episode_id, title=title,
                   published=datetime(year, 1, 1, tzinfo=UTC))


def _home_titles(client: TestClient) -> list[str]:
    return [e["title"] for e in client.get("/index.json").json()["episodes"]]


def test_the_home_page_shows_what_was_saved_after_it_was_last_shown(
        client: TestClient, catalogue: Catalogue) -> None:
    before = client.get("/index.json").json()
    assert _home_titles(client) == [e["title"] for e in before["episodes"]]
    # Saved through the site's own connection (an ingest in the same process) ...
    catalogue.save_episode(_newest("nytt-1", "Nytt avsnitt ett", 2030))
    assert _home_titles(client)[0] == "Nytt avsnitt ett"
    assert "Nytt avsnitt ett" in client.get("/").text
    # ... and by another process (``poddarkiv ingest`` beside ``serve``).
    with open_catalogue(catalogue.data.root) as other:
        other.save_episode(_newest("nytt-2", "Nytt avsnitt två", 2031))
    assert _home_titles(client)[:2] == ["Nytt avsnitt två", "Nytt avsnitt ett"]
    assert client.get("/index.json").json()["episode_count"] == before["episode_count"] + 2


def test_the_catalogue_cache_computes_again_only_after_a_write(catalogue: Catalogue) -> None:
    cache = CatalogueCache()
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get(catalogue, "k", compute) == 1
    assert cache.get(catalogue, "k", compute) == 1
    generation = catalogue_generation(catalogue)
    catalogue.save_episode(_newest("nytt-3", "Nytt avsnitt tre", 2030))
    assert catalogue_generation(catalogue) != generation
    assert cache.get(catalogue, "k", compute) == 2
    assert cache.get(catalogue, "other", compute) == 3

"""assign_episode_ids(): items that share a guid keep their ids wherever they stand in the feed.

A publisher that gives twenty debates one guid, then puts the next debate at the top, must not
make the new debate inherit the id (and so the record, the audio and the transcript) of the
one that held the plain id; a debate that leaves the feed must not hand its id on either.
"""

from __future__ import annotations

from poddarkiv.archive.models import Enclosure, Episode
from poddarkiv.ingest.identity import assign_episode_ids, episode_id_for, episode_identity

FEED = "feed0123456789ab"


def debate(n: int, *, audio: str | None = None, guid: str = "samma") -> Episode:
    """Debate ``n``, with the plain id its guid gives it (what parse_feed hands over)."""
    url = f"https://cdn.example/{audio or n}.mp3?token=t{n}"
    identity = episode_identity(guid=guid, enclosure_url=url, link=None, title=f"Debatt {n}",
                                published=None)
    return Episode(id=episode_id_for(FEED, identity), feed_id=FEED, guid=guid,
                   title=f"Debatt {n}", enclosure=Enclosure(url, "audio/mpeg", None))


def ids(*items: Episode, stored: dict[str, Episode] | None = None) -> dict[str, str]:
    kept, _duplicates = assign_episode_ids(
        items, feed_id=FEED, stored=None if stored is None else stored.get)
    return {e.title: e.id for e in kept}


def archive(*items: Episode) -> dict[str, Episode]:
    """What a first run stores for ``items``, by id."""
    kept, _duplicates = assign_episode_ids(items, feed_id=FEED)
    return {e.id: e for e in kept}


def test_every_distinct_item_sharing_a_guid_gets_its_own_id() -> None:
    found = ids(*(debate(n) for n in range(20)))
    assert len(set(found.values())) == 20


def test_exact_duplicates_are_left_out_and_returned() -> None:
    kept, duplicates = assign_episode_ids([debate(1), debate(1), debate(2)], feed_id=FEED)
    assert [e.title for e in kept] == ["Debatt 1", "Debatt 2"]
    assert [e.title for e in duplicates] == ["Debatt 1"]


def test_a_new_item_at_the_top_never_takes_an_earlier_items_id() -> None:
    stored = archive(debate(2), debate(1))
    before = {e.title: i for i, e in stored.items()}
    after = ids(debate(3), debate(2), debate(1), stored=stored)
    assert after["Debatt 2"] == before["Debatt 2"] and after["Debatt 1"] == before["Debatt 1"]
    assert after["Debatt 3"] not in stored


def test_an_item_that_left_the_feed_hands_its_id_to_no_one() -> None:
    stored = archive(debate(2), debate(1))
    after = ids(debate(3), debate(1), stored=stored)
    assert after["Debatt 1"] in stored and stored[after["Debatt 1"]].title == "Debatt 1"
    assert after["Debatt 3"] not in stored
    alone = ids(debate(1), stored=stored)
    assert stored[alone["Debatt 1"]].title == "Debatt 1"


def test_a_new_cdn_token_is_the_same_audio() -> None:
    stored = archive(debate(2), debate(1))
    moved = debate(2).replace(enclosure=Enclosure("https://cdn.example/2.mp3?token=new",
                                                  "audio/mpeg", None))
    assert ids(debate(3), moved, debate(1), stored=stored)["Debatt 2"] in stored


def test_an_item_with_its_own_guid_keeps_the_plain_id_even_when_its_audio_moves() -> None:
    first = debate(1, guid="unik")
    stored = archive(first)
    assert ids(debate(1, audio="ny-plats", guid="unik"), stored=stored) == {
        "Debatt 1": first.id}

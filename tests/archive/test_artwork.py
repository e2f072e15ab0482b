"""archive.artwork: podcast images by feed id, episode images by URL, and which copy an
episode shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from poddarkiv.archive.artwork import (
    EPISODE_FOLDER,
    episode_artwork,
    image_key,
    image_tried,
    refuse_image,
    remove_unused_images,
    save_artwork,
    save_image,
    stored_artwork,
    stored_image,
)
from poddarkiv.archive.models import Episode
from poddarkiv.archive.store import DataDir

PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)
JPEG = b"\xff\xd8\xff\xe0" + bytes(100)
FEED_IMAGE = "https://example.org/omslag.png"
EPISODE_IMAGE = "https://example.org/avsnitt/1.jpg?size=../../etc"


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    """An empty data directory, as an archive from before episode images has it."""
    return DataDir(tmp_path / "data").ensure()


def episode(image: str | None) -> Episode:
    return Episode(id="e1", feed_id="f1", guid="g1", title="Ett", image=image)


def test_an_image_key_is_short_hex_and_stable() -> None:
    key = image_key(EPISODE_IMAGE)
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert key == image_key(EPISODE_IMAGE) != image_key(FEED_IMAGE)


def test_an_episode_image_is_kept_by_its_url(data: DataDir) -> None:
    kept = save_image(data, EPISODE_IMAGE, JPEG, sha256="ab" * 32)
    assert kept.file_name == f"{EPISODE_FOLDER}/{image_key(EPISODE_IMAGE)}.jpg"
    assert (data.artwork / kept.file_name).read_bytes() == JPEG
    assert stored_image(data, EPISODE_IMAGE) == kept
    assert image_tried(data, EPISODE_IMAGE)
    assert stored_image(data, FEED_IMAGE) is None
    assert not list(data.artwork.rglob("*.tmp"))


def test_an_archive_without_episode_images_still_reads(data: DataDir) -> None:
    assert not (data.artwork / EPISODE_FOLDER).exists()
    assert stored_image(data, EPISODE_IMAGE) is None
    assert not image_tried(data, EPISODE_IMAGE)
    assert episode_artwork(data, episode(EPISODE_IMAGE)) is None


def test_a_refused_url_is_tried_but_shows_nothing(data: DataDir) -> None:
    refuse_image(data, EPISODE_IMAGE, "404")
    assert image_tried(data, EPISODE_IMAGE)
    assert stored_image(data, EPISODE_IMAGE) is None
    save_image(data, EPISODE_IMAGE, PNG, sha256="cd" * 32)  # a later try works
    refuse_image(data, EPISODE_IMAGE, "a failure after a copy is kept leaves the copy")
    assert stored_image(data, EPISODE_IMAGE) is not None


def test_a_non_image_is_not_kept(data: DataDir) -> None:
    with pytest.raises(ValueError, match="not a JPEG"):
        save_image(data, EPISODE_IMAGE, b"<svg/>", sha256="ab" * 32)
    assert stored_image(data, EPISODE_IMAGE) is None


def test_an_episode_shows_its_feeds_copy_when_it_names_the_feeds_image(data: DataDir) -> None:
    feed_copy = save_artwork(data, "f1", PNG, source_url=FEED_IMAGE, sha256="ef" * 32)
    assert episode_artwork(data, episode(FEED_IMAGE)) == feed_copy
    assert episode_artwork(data, episode(None)) is None
    assert episode_artwork(data, episode(EPISODE_IMAGE)) is None  # not kept yet
    own = save_image(data, EPISODE_IMAGE, JPEG, sha256="ab" * 32)
    assert episode_artwork(data, episode(EPISODE_IMAGE)) == own
    assert stored_artwork(data, "f1") == feed_copy  # the feed's copy is its own
    assert own.by_url and not feed_copy.by_url


OTHER_IMAGE = "https://example.org/avsnitt/2.png"


def test_images_no_episode_names_are_removed_and_used_ones_stay(data: DataDir) -> None:
    used = save_image(data, EPISODE_IMAGE, JPEG, sha256="ab" * 32)
    save_image(data, OTHER_IMAGE, PNG, sha256="cd" * 32)
    refuse_image(data, "https://example.org/trasig.png", "404")
    feed_copy = save_artwork(data, "f1", PNG, source_url=FEED_IMAGE, sha256="ef" * 32)
    assert remove_unused_images(data, [EPISODE_IMAGE, FEED_IMAGE]) == 2
    assert stored_image(data, EPISODE_IMAGE) == used
    assert (data.artwork / used.file_name).read_bytes() == JPEG
    assert stored_image(data, OTHER_IMAGE) is None and not image_tried(data, OTHER_IMAGE)
    assert not image_tried(data, "https://example.org/trasig.png")  # a refusal goes too
    assert stored_artwork(data, "f1") == feed_copy  # feeds' copies are not episode images
    assert sorted(p.name for p in (data.artwork / EPISODE_FOLDER).iterdir()) == sorted(
        [f"{image_key(EPISODE_IMAGE)}.jpg", f"{image_key(EPISODE_IMAGE)}.json"])


def test_an_interrupted_removal_hides_the_copy_and_the_next_one_finishes(
        data: DataDir) -> None:
    """The sidecar goes first: a sweep stopped after it leaves a file nobody shows, which the
    next sweep removes; a copy in use is never touched, whatever happened before."""
    unused = save_image(data, OTHER_IMAGE, PNG, sha256="cd" * 32)
    save_image(data, EPISODE_IMAGE, JPEG, sha256="ab" * 32)
    (data.artwork / EPISODE_FOLDER / f"{unused.key}.json").unlink()  # stopped here
    assert stored_image(data, OTHER_IMAGE) is None
    assert remove_unused_images(data, [EPISODE_IMAGE]) == 1
    assert not (data.artwork / unused.file_name).exists()
    assert stored_image(data, EPISODE_IMAGE) is not None


def test_files_the_archive_did_not_name_are_left_alone(data: DataDir) -> None:
    save_image(data, OTHER_IMAGE, PNG, sha256="cd" * 32)
    folder = data.artwork / EPISODE_FOLDER
    for name in (f"{image_key(OTHER_IMAGE)}.png.tmp", "LASMIG.txt", ".hidden"):
        (folder / name).write_bytes(b"x")  # a half-written temporary, a person's file
    assert remove_unused_images(data, []) == 1
    assert sorted(p.name for p in folder.iterdir()) == [
        ".hidden", "LASMIG.txt", f"{image_key(OTHER_IMAGE)}.png.tmp"]


def test_an_archive_without_episode_images_has_nothing_to_remove(data: DataDir) -> None:
    assert remove_unused_images(data, [EPISODE_IMAGE]) == 0

"""download_audio(): our names, bounded size, resume, audio check, atomic rename, only once."""

from __future__ import annotations

import errno
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from poddarkiv.archive.models import Enclosure, Episode
from poddarkiv.archive.store import DataDir
from poddarkiv.config import Settings
from poddarkiv.errors import AudioError, FetchError
from poddarkiv.ingest import fetch as fetch_module
from poddarkiv.ingest.download import audio_extension, download_audio, find_audio
from poddarkiv.ingest.fetch import FetchPolicy, make_client
from tests.httpserver import Exchange, LoopbackServer, broken_after, in_turn, ranged, reply
from tests.ingest.fulldisk import full_disk_open

CLIP = Path(__file__).resolve().parents[1] / "data" / "audio" / "iop-sv.mp3"
SETTINGS = Settings(allow_private=True)
POLICY = FetchPolicy(allow_private=True, read_timeout_s=2.0, deadline_s=10.0,
                     max_bytes=10 * 1024 * 1024)
FAKE_AUDIO = b"ID3" + bytes(range(256)) * 200


def accept_all(path: Path) -> None:
    """A probe that accepts anything (the real one is exercised separately)."""


def refuse_html(path: Path) -> None:
    if path.read_bytes().lstrip().startswith(b"<"):
        raise AudioError("not audio")


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(POLICY) as c:
        yield c


def episode(url: str, *, kind: str = "audio/mpeg", title: str = "../../etc/passwd <x>"
            ) -> Episode:
    return Episode(id="0123456789abcdef", feed_id="f", guid="g", title=title,
                   enclosure=Enclosure(url, kind))


def download(client: httpx.Client, ep: Episode, data: DataDir, **kw: object) -> Episode:
    options: dict[str, object] = {"settings": SETTINGS, "policy": POLICY, "probe": accept_all}
    options.update(kw)
    return download_audio(client, ep, data=data, **options)  # type: ignore[arg-type]


def test_downloads_under_our_own_name(http_server: LoopbackServer, client: httpx.Client,
                                      data: DataDir) -> None:
    url = http_server.route("/show/Episode%201.mp3", ranged(FAKE_AUDIO))
    got = download(client, episode(url + "?token=abc"), data)
    assert got.audio_path == "audio/0123456789abcdef.mp3"
    assert (data.root / got.audio_path).read_bytes() == FAKE_AUDIO
    assert got.audio_sha256 == hashlib.sha256(FAKE_AUDIO).hexdigest()
    assert sorted(p.name for p in data.audio.iterdir()) == ["0123456789abcdef.mp3"]


@pytest.mark.parametrize(("served", "declared", "ext"), [
    ("audio/mp4", "audio/mpeg", "m4a"), ("application/octet-stream", "audio/ogg", "ogg"),
    ("audio/mpeg; charset=binary", "", "mp3"), ("text/plain", "application/x-unknown", "bin"),
])
def test_the_extension_comes_from_media_types(served: str, declared: str, ext: str) -> None:
    assert audio_extension(served, declared) == ext


def test_existing_audio_is_not_downloaded_again(http_server: LoopbackServer,
                                                client: httpx.Client, data: DataDir) -> None:
    url = http_server.route("/a.mp3", ranged(FAKE_AUDIO))
    first = download(client, episode(url + "?token=1"), data)
    # The CDN token changed and the catalogue lost track of the file: still no new download.
    again = download(client, episode(url + "?token=2"), data)
    assert http_server.count("/a.mp3") == 1
    assert again.audio_path == first.audio_path and again.audio_sha256 == first.audio_sha256
    assert find_audio(data, again) == data.root / first.audio_path


def test_an_interrupted_download_resumes_with_range(http_server: LoopbackServer,
                                                    client: httpx.Client,
                                                    data: DataDir) -> None:
    url = http_server.route("/a.mp3", in_turn(broken_after(FAKE_AUDIO, sent_bytes=20_000),
                                              ranged(FAKE_AUDIO)))
    with pytest.raises(FetchError):
        download(client, episode(url), data)
    partial = data.audio / "0123456789abcdef.partial"
    assert partial.stat().st_size == 20_000
    assert json.loads((data.audio / "0123456789abcdef.partial.json").read_text()) == {
        "validator": '"a1"'}
    got = download(client, episode(url), data)
    assert (data.root / str(got.audio_path)).read_bytes() == FAKE_AUDIO
    sent = http_server.last("/a.mp3").headers
    assert sent["range"] == "bytes=20000-" and sent["if-range"] == '"a1"'
    assert not partial.exists()


def test_a_full_disk_leaves_no_partial_download(http_server: LoopbackServer,
                                                client: httpx.Client, data: DataDir,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    url = http_server.route("/a.mp3", ranged(FAKE_AUDIO))
    with monkeypatch.context() as patched:
        patched.setattr(fetch_module, "open", full_disk_open(), raising=False)
        with pytest.raises(FetchError, match="No space left on device"):
            download(client, episode(url), data)
    assert list(data.audio.iterdir()) == []
    # With room again, the next try downloads the whole file, not a resumed one.
    got = download(client, episode(url), data)
    assert (data.root / str(got.audio_path)).read_bytes() == FAKE_AUDIO
    assert "range" not in http_server.last("/a.mp3").headers
    assert sorted(p.name for p in data.audio.iterdir()) == ["0123456789abcdef.mp3"]


def test_a_full_disk_while_resuming_removes_the_partial_download(
        http_server: LoopbackServer, client: httpx.Client, data: DataDir,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = http_server.route("/a.mp3", in_turn(broken_after(FAKE_AUDIO, sent_bytes=20_000),
                                              ranged(FAKE_AUDIO)))
    with pytest.raises(FetchError):
        download(client, episode(url), data)  # a network failure: the partial file stays
    assert (data.audio / "0123456789abcdef.partial").stat().st_size == 20_000
    monkeypatch.setattr(fetch_module, "open", full_disk_open(), raising=False)
    with pytest.raises(FetchError, match="No space left on device"):
        download(client, episode(url), data)
    assert http_server.last("/a.mp3").headers["range"] == "bytes=20000-"
    assert list(data.audio.iterdir()) == []


def test_a_full_disk_when_keeping_the_validator_leaves_nothing(
        http_server: LoopbackServer, client: httpx.Client, data: DataDir,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = http_server.route("/a.mp3", ranged(FAKE_AUDIO))
    write_text = Path.write_text

    def full(path: Path, text: str, *args: object, **kwargs: object) -> int:
        if path.name.endswith(".partial.json"):
            path.write_bytes(b'{"valid')  # what fits before the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_text(path, text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(FetchError, match=r"cannot save the download of http://.*/a\.mp3: "
                       r"No space left on device"):
        download(client, episode(url), data)
    assert list(data.audio.iterdir()) == []


def test_a_file_changed_on_the_server_is_fetched_whole(http_server: LoopbackServer,
                                                       client: httpx.Client,
                                                       data: DataDir) -> None:
    new = FAKE_AUDIO[::-1]
    url = http_server.route("/a.mp3", in_turn(broken_after(FAKE_AUDIO, sent_bytes=20_000),
                                              ranged(new, etag='"a2"')))
    with pytest.raises(FetchError):
        download(client, episode(url), data)
    got = download(client, episode(url), data)
    assert (data.root / str(got.audio_path)).read_bytes() == new


def test_a_server_without_range_support_starts_over(http_server: LoopbackServer,
                                                    client: httpx.Client,
                                                    data: DataDir) -> None:
    url = http_server.route("/a.mp3", in_turn(broken_after(FAKE_AUDIO, sent_bytes=9_000),
                                              ranged(FAKE_AUDIO, support_range=False)))
    with pytest.raises(FetchError):
        download(client, episode(url), data)
    got = download(client, episode(url), data)
    assert (data.root / str(got.audio_path)).read_bytes() == FAKE_AUDIO


def test_416_restarts_from_the_beginning(http_server: LoopbackServer, client: httpx.Client,
                                         data: DataDir) -> None:
    def unsatisfiable(ex: Exchange) -> None:
        if "range" in ex.request.headers:
            ex.send(416, b"", {"Content-Range": f"bytes */{len(FAKE_AUDIO)}"})
        else:
            ex.send(200, FAKE_AUDIO, {"Content-Type": "audio/mpeg", "ETag": '"a1"'})

    url = http_server.route("/a.mp3", unsatisfiable)
    (data.audio / "0123456789abcdef.partial").write_bytes(b"x" * (len(FAKE_AUDIO) + 10))
    (data.audio / "0123456789abcdef.partial.json").write_text('{"validator": "\\"a1\\""}')
    got = download(client, episode(url), data)
    assert (data.root / str(got.audio_path)).read_bytes() == FAKE_AUDIO


def test_oversize_audio_is_refused(http_server: LoopbackServer, client: httpx.Client,
                                   data: DataDir) -> None:
    url = http_server.route("/a.mp3", ranged(FAKE_AUDIO))
    with pytest.raises(FetchError, match="cap"):
        download(client, episode(url), data, policy=POLICY.replace(max_bytes=1000))
    assert find_audio(data, episode(url)) is None


def test_a_body_that_is_not_audio_is_refused_and_removed(http_server: LoopbackServer,
                                                         client: httpx.Client,
                                                         data: DataDir) -> None:
    url = http_server.route("/a.mp3", reply(b"<html>Logga in</html>", content_type="audio/mpeg"))
    with pytest.raises(AudioError):
        download(client, episode(url), data, probe=refuse_html)
    assert list(data.audio.iterdir()) == []


def test_the_real_probe_accepts_audio_and_refuses_html(http_server: LoopbackServer,
                                                       client: httpx.Client,
                                                       data: DataDir) -> None:
    good = http_server.route("/clip.mp3", ranged(CLIP.read_bytes()))
    got = download(client, episode(good), data, probe=None)
    assert got.audio_path == "audio/0123456789abcdef.mp3"
    bad = http_server.route("/page", reply(b"<!doctype html><p>404</p>" * 50,
                                           content_type="text/html"))
    other = episode(bad).replace(id="fedcba9876543210")
    with pytest.raises(AudioError):
        download(client, other, data, probe=None)
    assert not (data.audio / "fedcba9876543210.partial").exists()


def test_too_long_audio_is_refused(http_server: LoopbackServer, client: httpx.Client,
                                   data: DataDir) -> None:
    url = http_server.route("/clip.mp3", ranged(CLIP.read_bytes()))
    with pytest.raises(AudioError, match="longer than"):
        download(client, episode(url), data, probe=None,
                 settings=SETTINGS.replace(audio_max_duration_s=1.0))


def test_an_episode_without_enclosure_has_no_audio(client: httpx.Client, data: DataDir) -> None:
    with pytest.raises(AudioError, match="no audio enclosure"):
        download(client, episode("https://x.example/a.mp3").replace(enclosure=None), data)


def test_an_id_that_cannot_name_a_file_is_refused(client: httpx.Client, data: DataDir) -> None:
    with pytest.raises(AudioError):
        download(client, episode("https://x.example/a.mp3").replace(id="../../x"), data)


def test_a_zero_byte_enclosure_is_refused_in_terms_the_user_knows(
        http_server: LoopbackServer, client: httpx.Client, data: DataDir) -> None:
    url = http_server.route("/empty.mp3", reply(b"", content_type="audio/mpeg"))
    with pytest.raises(AudioError) as caught:
        download(client, episode(url), data, probe=None)
    message = str(caught.value)
    assert message == f"the audio at {url}: empty file"
    assert str(data.root) not in message and ".partial" not in message

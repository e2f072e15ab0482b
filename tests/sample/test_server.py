"""The sample server: feed with its own base URL, validators, 304, byte ranges, refusals."""

from __future__ import annotations

import io
import socket
from email.utils import formatdate
from pathlib import Path

import feedparser
import httpx
import pytest

from poddarkiv.sample import SAMPLE_EPISODES, sample_dir
from poddarkiv.sample.server import SampleServer, serve_sample

AUDIO = SAMPLE_EPISODES[0].audio
AUDIO_PATH = f"/audio/{AUDIO.name}"


def audio_bytes() -> bytes:
    return AUDIO.read_bytes()


# --- the feed --------------------------------------------------------------------------------


def test_feed_points_back_at_the_server(sample_server: SampleServer,
                                        client: httpx.Client) -> None:
    body = client.get(sample_server.feed_url).text
    assert "{base}" not in body
    assert f'url="{sample_server.base_url}/audio/' in body
    assert f'url="{sample_server.base_url}/transcripts/' in body


def test_feed_parses_into_episodes_whose_enclosures_are_served_whole(
        sample_server: SampleServer, client: httpx.Client) -> None:
    response = client.get(sample_server.feed_url)
    parsed = feedparser.parse(io.BytesIO(response.content),
                              response_headers=dict(response.headers))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.language == "sv"
    assert len(parsed.entries) >= 4
    for entry in parsed.entries:
        (enclosure,) = entry.enclosures
        assert enclosure.type == "audio/mpeg"
        audio = client.get(enclosure.href)
        assert audio.status_code == 200
        assert int(enclosure.length) == len(audio.content) == int(audio.headers["content-length"])


def test_publisher_transcript_link_is_served_as_webvtt(sample_server: SampleServer,
                                                       client: httpx.Client) -> None:
    parsed = feedparser.parse(io.BytesIO(client.get(sample_server.feed_url).content))
    links = [entry.podcast_transcript for entry in parsed.entries if "podcast_transcript" in entry]
    assert links, "at least one episode carries <podcast:transcript>"
    for link in links:
        response = client.get(link["url"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/vtt; charset=utf-8"
        assert response.text.startswith("WEBVTT")


@pytest.mark.parametrize(("path", "content_type"), [
    ("/feed.xml", "application/rss+xml; charset=utf-8"),
    (AUDIO_PATH, "audio/mpeg"),
    ("/transcripts/iop-och-upphandling.vtt", "text/vtt; charset=utf-8"),
])
def test_every_answer_carries_type_length_and_validators(
        sample_server: SampleServer, client: httpx.Client, path: str, content_type: str) -> None:
    response = client.get(sample_server.url(path))
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith(" GMT")
    assert response.headers["accept-ranges"] == "bytes"


def test_head_gives_the_headers_of_get_and_no_body(sample_server: SampleServer,
                                                   client: httpx.Client) -> None:
    get = client.get(sample_server.url(AUDIO_PATH))
    head = client.head(sample_server.url(AUDIO_PATH))
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified"):
        assert head.headers[name] == get.headers[name]


# --- conditional GET (RFC 9110 §13) -----------------------------------------------------------


@pytest.mark.parametrize("path", ["/feed.xml", AUDIO_PATH])
def test_matching_etag_gets_304_without_body(sample_server: SampleServer, client: httpx.Client,
                                             path: str) -> None:
    first = client.get(sample_server.url(path))
    again = client.get(sample_server.url(path), headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


@pytest.mark.parametrize("header", ['"not-it"', '"not-it", {etag}', "W/{etag}", "*"])
def test_if_none_match_lists_weak_tags_and_star(sample_server: SampleServer,
                                                client: httpx.Client, header: str) -> None:
    etag = client.head(sample_server.feed_url).headers["etag"]
    value = header.format(etag=etag)
    status = client.get(sample_server.feed_url, headers={"If-None-Match": value}).status_code
    assert status == (200 if value == '"not-it"' else 304)


def test_if_modified_since_gets_304_when_unchanged_and_200_when_older(
        sample_server: SampleServer, client: httpx.Client) -> None:
    last_modified = client.head(sample_server.feed_url).headers["last-modified"]
    unchanged = client.get(sample_server.feed_url, headers={"If-Modified-Since": last_modified})
    older = client.get(sample_server.feed_url,
                       headers={"If-Modified-Since": formatdate(0, usegmt=True)})
    garbled = client.get(sample_server.feed_url, headers={"If-Modified-Since": "yesterday"})
    assert (unchanged.status_code, older.status_code, garbled.status_code) == (304, 200, 200)


def test_if_none_match_wins_over_if_modified_since(sample_server: SampleServer,
                                                   client: httpx.Client) -> None:
    last_modified = client.head(sample_server.feed_url).headers["last-modified"]
    response = client.get(sample_server.feed_url, headers={
        "If-None-Match": '"stale"', "If-Modified-Since": last_modified})
    assert response.status_code == 200


def test_feed_etag_changes_with_the_base_url(client: httpx.Client) -> None:
    with serve_sample() as one, serve_sample() as two:
        assert one.base_url != two.base_url
        assert (client.head(one.feed_url).headers["etag"]
                != client.head(two.feed_url).headers["etag"])


# --- byte ranges (RFC 9110 §14) ---------------------------------------------------------------


@pytest.mark.parametrize(("header", "first", "last"), [
    ("bytes=0-0", 0, 0),
    ("bytes=100-1099", 100, 1099),
    ("bytes=1000-", 1000, None),
    ("bytes=-500", -500, None),
    ("bytes=10-99999999", 10, None),
])
def test_single_range_gets_206_with_those_bytes(sample_server: SampleServer,
                                                client: httpx.Client, header: str, first: int,
                                                last: int | None) -> None:
    whole = audio_bytes()
    expected = whole[first:] if last is None else whole[first:last + 1]
    response = client.get(sample_server.url(AUDIO_PATH), headers={"Range": header})
    assert response.status_code == 206
    assert response.content == expected
    start = first % len(whole)
    assert response.headers["content-range"] == (
        f"bytes {start}-{start + len(expected) - 1}/{len(whole)}")
    assert int(response.headers["content-length"]) == len(expected)


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=-0"])
def test_unsatisfiable_range_gets_416_with_the_size(sample_server: SampleServer,
                                                    client: httpx.Client, header: str) -> None:
    response = client.get(sample_server.url(AUDIO_PATH), headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(audio_bytes())}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "bytes=9-1", "pages=1-2", "bytes=-"])
def test_several_or_malformed_ranges_get_the_whole_body(sample_server: SampleServer,
                                                        client: httpx.Client,
                                                        header: str) -> None:
    response = client.get(sample_server.url(AUDIO_PATH), headers={"Range": header})
    assert response.status_code == 200
    assert response.content == audio_bytes()


def test_if_range_with_an_old_etag_gets_the_whole_body(sample_server: SampleServer,
                                                       client: httpx.Client) -> None:
    url = sample_server.url(AUDIO_PATH)
    etag = client.head(url).headers["etag"]
    current = client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    old = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert (current.status_code, old.status_code) == (206, 200)
    assert len(old.content) == len(audio_bytes())


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/", "/index.html", "/audio/", "/audio/missing.mp3", "/scripts/iop-och-upphandling.txt",
    "/__init__.py", "/server.py", "/audio/.hidden", "/feed.xml/",
    "/audio/%2e%2e/feed.xml", "/audio/..%2f..%2f__init__.py", "/audio/%2e%2e%2fserver.py",
    "/transcripts/..%5c..%5cserver.py", "/audio/sub/x.mp3", "/feed.xml%00", "/audio//x.mp3",
])
def test_anything_else_is_404(sample_server: SampleServer, client: httpx.Client,
                              path: str) -> None:
    response = client.get(sample_server.base_url + path)
    assert response.status_code == 404
    assert b"import" not in response.content


@pytest.mark.parametrize("target", [
    "/audio/../__init__.py", "/audio/../../pyproject.toml", "/transcripts/../server.py",
    "/../feed.xml", "http://localhost/audio/../server.py",
])
def test_literal_dot_dot_is_refused(sample_server: SampleServer, target: str) -> None:
    # httpx normalises "..", so send the request line by hand.
    with socket.create_connection((sample_server.host, sample_server.port), timeout=5) as conn:
        conn.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 404 ")
    assert b"import" not in answer


def test_other_methods_get_405(sample_server: SampleServer, client: httpx.Client) -> None:
    response = client.post(sample_server.feed_url, content=b"x")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


# --- behaviour of the server itself -----------------------------------------------------------


def test_quiet_by_default_and_logs_when_asked(client: httpx.Client,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    with serve_sample() as quiet:
        client.get(quiet.feed_url)
        client.get(quiet.base_url + "/nothing")
    assert capfd.readouterr().err == ""
    with serve_sample(quiet=False) as loud:
        client.get(loud.base_url + "/nothing")
    assert "/nothing" in capfd.readouterr().err


def test_requests_are_recorded_with_their_headers(client: httpx.Client) -> None:
    with serve_sample() as server:
        etag = client.get(server.feed_url).headers["etag"]
        client.get(server.feed_url, headers={"If-None-Match": etag})
        first, second = server.requests()
    assert (first.method, first.path, first.status) == ("GET", "/feed.xml", 200)
    assert second.status == 304
    assert second.header("if-none-match") == etag
    assert second.header("x-absent") is None


def test_stops_listening_when_the_block_ends(client: httpx.Client) -> None:
    with serve_sample() as server:
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
    with pytest.raises(httpx.ConnectError):
        client.get(server.feed_url)


def test_serves_another_root_the_same_way(tmp_path: Path, client: httpx.Client) -> None:
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "one.mp3").write_bytes(b"ID3 fake audio")
    (tmp_path / "feed.xml").write_text('<rss><enclosure url="{base}/audio/one.mp3"/></rss>')
    with serve_sample(root=tmp_path) as server:
        assert server.root == tmp_path.resolve()
        feed = client.get(server.feed_url).text
        audio = client.get(server.url("audio/one.mp3"), headers={"Range": "bytes=4-7"})
        missing = client.get(server.url("/transcripts/x.vtt"))
    assert feed == f'<rss><enclosure url="{server.base_url}/audio/one.mp3"/></rss>'
    assert (audio.status_code, audio.content) == (206, b"fake")
    assert missing.status_code == 404


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path, client: httpx.Client) -> None:
    (tmp_path / "audio").mkdir()
    (tmp_path / "secret.mp3").write_bytes(b"secret")
    (tmp_path / "audio" / "link.mp3").symlink_to(tmp_path / "secret.mp3")
    with serve_sample(root=tmp_path) as server:
        assert client.get(server.url("/audio/link.mp3")).status_code == 404


def test_default_root_is_the_bundled_sample(sample_server: SampleServer) -> None:
    assert sample_server.root == sample_dir()

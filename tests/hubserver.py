"""A loopback server that speaks the Hugging Face Hub's file API, for offline pull tests.

It serves model repos made of local files, answering what ``huggingface_hub`` asks (point
``HF_ENDPOINT``, or ``endpoint=``, at :attr:`FakeHub.url`)::

    HEAD /                                            the reachability probe
    GET  /api/models/{repo}[/revision/{rev}]          the repo: its commit and files (siblings)
    GET  /api/models/{repo}/tree/{rev}[/{path}]       the files again, as a tree listing
    HEAD /{repo}/resolve/{rev}/{file}                 a file's commit, ETag and size
    GET  /{repo}/resolve/{rev}/{file}                 its bytes (a ``Range: bytes=N-`` resumes)

Large files (:data:`LFS_MIN_BYTES` and up) are listed as LFS files with their SHA-256, as on the
hub; small ones with their git blob id. Every request is recorded for assertions.

:func:`ct2_repo` is the bundled model's CTranslate2 weights as such a repo (:data:`TEST_REPO`),
from the session fixture :func:`base_ct2`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

__all__ = [
    "CT2_FILES",
    "LFS_MIN_BYTES",
    "TEST_REPO",
    "FakeHub",
    "HubRepo",
    "base_ct2",
    "ct2_repo",
    "serve_hub",
]

#: From this size on, the hub stores a file in LFS and lists its SHA-256.
LFS_MIN_BYTES = 10 * 1024 * 1024
_CHUNK_BYTES = 1 << 20
#: The bundled weights' name on the fake hub, and the files a CTranslate2 repo holds.
TEST_REPO = "Test/whisper-base-ct2"
CT2_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(slots=True)
class HubRepo:
    """A repo: file name to local path, at one commit."""

    files: dict[str, Path]
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    _meta: dict[str, dict[str, object]] = field(default_factory=dict)

    def meta(self, name: str) -> dict[str, object]:
        """The file's size and hash, as the hub lists it (computed once)."""
        if name not in self._meta:
            data = self.files[name].read_bytes()
            blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False)
            entry: dict[str, object] = {"size": len(data), "blob_id": blob.hexdigest()}
            if len(data) >= LFS_MIN_BYTES:
                entry["sha256"] = hashlib.sha256(data).hexdigest()
            self._meta[name] = entry
        return self._meta[name]


@dataclass(slots=True)
class FakeHub:
    """The running server: its ``url``, its repos (add more while it runs), what it was asked."""

    repos: dict[str, HubRepo]
    url: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)

    def downloads(self, name: str) -> int:
        """How many times a file's bytes were fetched (GET, not HEAD)."""
        return sum(1 for method, path in self.requests
                   if method == "GET" and "/resolve/" in path and path.endswith("/" + name))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        hub = self.server.hub
        path = unquote(urlsplit(self.path).path)
        hub.requests.append((self.command, path))
        if path == "/":
            return self._send(200, b"fake hub", "text/plain", body=body)
        if m := re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?", path):
            return self._repo_info(m.group(1), body=body)
        if m := re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/([^/]+)(?:/.*)?", path):
            return self._tree(m.group(1), body=body)
        if m := re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path):
            return self._file(m.group(1), m.group(3), body=body)
        self._send(404, b'{"error": "not found"}', "application/json", body=body)

    def _repo(self, repo_id: str) -> HubRepo | None:
        repo = self.server.hub.repos.get(repo_id)
        if repo is None:
            # The hub's answer for a missing or private repo.
            self._send(404, b'{"error": "Repository not found"}', "application/json",
                       body=True, headers={"X-Error-Code": "RepoNotFound"})
        return repo

    def _repo_info(self, repo_id: str, *, body: bool) -> None:
        if (repo := self._repo(repo_id)) is None:
            return
        siblings = []
        for name in sorted(repo.files):
            meta = repo.meta(name)
            sibling: dict[str, object] = {"rfilename": name, "size": meta["size"],
                                          "blobId": meta["blob_id"]}
            if "sha256" in meta:
                sibling["lfs"] = {"sha256": meta["sha256"], "size": meta["size"],
                                  "pointerSize": 134}
            siblings.append(sibling)
        info = {"_id": repo_id, "id": repo_id, "modelId": repo_id, "sha": repo.commit,
                "private": False, "disabled": False, "gated": False, "tags": [],
                "siblings": siblings}
        self._send(200, json.dumps(info).encode(), "application/json", body=body)

    def _tree(self, repo_id: str, *, body: bool) -> None:
        if (repo := self._repo(repo_id)) is None:
            return
        entries = []
        for name in sorted(repo.files):
            meta = repo.meta(name)
            entry: dict[str, object] = {"type": "file", "oid": meta["blob_id"],
                                        "size": meta["size"], "path": name}
            if "sha256" in meta:
                entry["lfs"] = {"oid": meta["sha256"], "size": meta["size"], "pointerSize": 134}
            entries.append(entry)
        self._send(200, json.dumps(entries).encode(), "application/json", body=body)

    def _file(self, repo_id: str, name: str, *, body: bool) -> None:
        if (repo := self._repo(repo_id)) is None:
            return
        if name not in repo.files:
            self._send(404, b'{"error": "Entry not found"}', "application/json", body=body,
                       headers={"X-Error-Code": "EntryNotFound", "X-Repo-Commit": repo.commit})
            return
        meta = repo.meta(name)
        size = int(str(meta["size"]))
        start = 0
        if m := re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", "")):
            start = min(int(m.group(1)), size)
        etag = str(meta.get("sha256") or meta["blob_id"])
        headers = {"X-Repo-Commit": repo.commit, "ETag": f'"{etag}"',
                   "Accept-Ranges": "bytes"}
        self.send_response(206 if start else 200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()
        if body:
            with open(repo.files[name], "rb") as f:
                f.seek(start)
                while chunk := f.read(_CHUNK_BYTES):
                    self.wfile.write(chunk)

    def _send(self, status: int, data: bytes, content_type: str, *, body: bool,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hub: FakeHub


@contextmanager
def serve_hub(repos: dict[str, HubRepo]) -> Iterator[FakeHub]:
    """Serve ``repos`` on a loopback port until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    hub = FakeHub(repos=repos, url=f"http://127.0.0.1:{server.server_address[1]}")
    server.hub = hub
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def base_ct2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled base model's CTranslate2 folder, assembled in $PODDARKIV_TEST_MODEL_CACHE
    (kept between runs) or a temp folder."""
    from poddarkiv.ingest.model import assemble_bundled_model

    env = os.environ.get("PODDARKIV_TEST_MODEL_CACHE")
    return assemble_bundled_model(Path(env) if env else tmp_path_factory.mktemp("bundled"))


def ct2_repo(base_ct2: Path) -> HubRepo:
    """The bundled weights as a hub repo, with a README faster-whisper does not need."""
    files = {name: base_ct2 / name for name in CT2_FILES}
    return HubRepo({**files, "README.md": base_ct2 / "config.json"})

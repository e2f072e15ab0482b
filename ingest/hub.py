"""Pulling a Whisper model from the Hugging Face Hub once, checked, and ready for both engines.

``poddarkiv models pull KBLab/kb-whisper-small`` is the only time poddarkiv talks to the hub
unasked-for files never come down: :func:`list_hub_files` asks the hub what the repo holds
(``GET {endpoint}/api/models/{repo}/revision/main?blobs=true``: every file with its size, and
the SHA-256 of large files), and :func:`pull_model`

1. refuses a repo with only transformers weights, saying how to convert it (CTranslate2's
   ``ct2-transformers-converter``, which needs transformers and torch: not a dependency of ours);
2. downloads the files faster-whisper loads (``model.bin``, ``config.json``, the tokenizer and
   vocabulary) into huggingface_hub's cache under ``<models>/hub``, with a progress bar; the
   same cache :class:`~poddarkiv.ingest.model.HuggingFaceHub` reads, so ``--model REPO``
   resolves offline afterwards;
3. checks every file against the listing: its size, its SHA-256 where the hub gives one (large
   files), else its git blob id, and that ``model.bin`` is a CTranslate2 Whisper model;
4. converts the weights once into an openai-whisper checkpoint
   (:func:`~poddarkiv.ingest.convert.ensure_whisper_checkpoint`), as the bundled model is.

The hub's address is huggingface_hub's (``HF_ENDPOINT``) unless ``endpoint`` names another;
the tests run a loopback server that speaks the same file API. huggingface_hub's exceptions are
translated into :class:`~poddarkiv.errors.ModelError` in :func:`_hub_errors`, and only there.
"""

from __future__ import annotations

import fnmatch
import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from poddarkiv.archive.files import HASH_CHUNK_BYTES, sha256_file
from poddarkiv.errors import ModelError
from poddarkiv.ingest.convert import ensure_whisper_checkpoint, read_ct2_spec
from poddarkiv.ingest.model import HUB_DIR_NAME, HuggingFaceHub, memo_sha256

__all__ = [
    "CT2_PATTERNS",
    "CT2_REQUIRED",
    "HubFile",
    "HubListing",
    "Layout",
    "PulledModel",
    "list_hub_files",
    "pull_model",
    "verify_pulled",
]

#: What faster-whisper downloads of a CTranslate2 repo (``faster_whisper.utils.download_model``).
CT2_PATTERNS = ("config.json", "preprocessor_config.json", "model.bin", "tokenizer.json",
                "vocabulary.*")
#: Without these a repo is not a CTranslate2 Whisper model.
CT2_REQUIRED = ("model.bin", "config.json")
_TOKENIZER_FILES = ("tokenizer.json", "vocabulary.txt", "vocabulary.json")
_TRANSFORMERS_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                         "pytorch_model.bin.index.json")
CONVERTER = "ct2-transformers-converter"

Layout = Literal["ctranslate2", "transformers", "unknown"]


@dataclass(frozen=True, slots=True)
class HubFile:
    """One file of a hub repo as the hub lists it: size, and SHA-256 (large files) or git blob
    id (small ones) where the hub gives them."""

    name: str
    size: int | None = None
    sha256: str | None = None
    blob_id: str | None = None


@dataclass(frozen=True, slots=True)
class HubListing:
    """What a hub repo holds at one commit."""

    repo_id: str
    commit: str
    files: tuple[HubFile, ...]

    @property
    def layout(self) -> Layout:
        """``ctranslate2`` (faster-whisper loads it), ``transformers`` (needs converting), or
        ``unknown``."""
        names = {f.name for f in self.files}
        has_tokenizer = any(name in names for name in _TOKENIZER_FILES)
        if all(name in names for name in CT2_REQUIRED) and has_tokenizer:
            return "ctranslate2"
        if any(name in names for name in _TRANSFORMERS_WEIGHTS):
            return "transformers"
        return "unknown"

    @property
    def wanted(self) -> tuple[HubFile, ...]:
        """The files faster-whisper loads (:data:`CT2_PATTERNS`)."""
        return tuple(f for f in self.files
                     if any(fnmatch.fnmatchcase(f.name, p) for p in CT2_PATTERNS))


@dataclass(frozen=True, slots=True)
class PulledModel:
    """A pulled model: its CTranslate2 folder (faster-whisper), the weights' SHA-256, and the
    openai-whisper checkpoint converted from them (``None`` when conversion was skipped)."""

    name: str
    commit: str
    folder: Path
    sha256: str
    checkpoint: Path | None
    files: tuple[HubFile, ...]

    @property
    def size(self) -> int:
        """Bytes downloaded (the listed sizes of the files)."""
        return sum(f.size or 0 for f in self.files)


@contextmanager
def _hub_errors(name: str) -> Iterator[None]:
    """huggingface_hub's and the network's exceptions as one :class:`ModelError` each."""
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        yield
    except ModelError:
        raise
    except GatedRepoError as exc:
        raise ModelError(f"{name}: the repo is gated: accept its terms on the hub and log in "
                         "(hf auth login), then pull again") from exc
    except RepositoryNotFoundError as exc:
        raise ModelError(f"{name}: no such model repo on the hub (or it is private)") from exc
    except RevisionNotFoundError as exc:
        raise ModelError(f"{name}: the hub has no such revision") from exc
    except HfHubHTTPError as exc:
        raise ModelError(f"{name}: the hub answered with an error: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"{name}: could not download from the hub: {exc}") from exc
    except Exception as exc:  # the HTTP client's own errors (httpx or httpx2, by version)
        raise ModelError(f"{name}: could not reach the hub: {type(exc).__name__}: {exc}"
                         ) from exc


def list_hub_files(name: str, *, endpoint: str | None = None) -> HubListing:
    """What the hub's repo ``name`` holds on its main branch, with sizes and hashes."""
    from huggingface_hub import HfApi

    with _hub_errors(name):
        info = HfApi(endpoint=endpoint).model_info(name, files_metadata=True)
        files = tuple(
            HubFile(s.rfilename, size=s.lfs.size if s.lfs else s.size,
                    sha256=s.lfs.sha256 if s.lfs else None, blob_id=None if s.lfs else s.blob_id)
            for s in info.siblings or ())
    if not info.sha:
        raise ModelError(f"{name}: the hub did not say which commit it lists")
    return HubListing(repo_id=name, commit=info.sha, files=files)


def _refuse_layout(listing: HubListing) -> None:
    if listing.layout == "ctranslate2":
        return
    name = listing.repo_id
    if listing.layout == "transformers":
        found = "installed" if shutil.which(CONVERTER) else "not installed here"
        raise ModelError(
            f"{name} holds only transformers weights; faster-whisper needs CTranslate2 ones. "
            f"Convert it once with {CONVERTER} ({found}; it comes with `pip install ctranslate2 "
            f"transformers[torch]`, on any machine): {CONVERTER} --model {name} --output_dir "
            f"DIR --copy_files tokenizer.json preprocessor_config.json --quantization float16; "
            "then transcribe with --model DIR.")
    listed = ", ".join(f.name for f in listing.files) or "nothing"
    raise ModelError(f"{name} is not a Whisper model in CTranslate2 form (it lists: {listed}); "
                     f"it needs {', '.join(CT2_REQUIRED)} and tokenizer.json or vocabulary.txt")


def _git_blob_id(path: Path) -> str:
    """The id git (and the hub) gives a small file: SHA-1 of ``blob <size>\\0`` + contents."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _check_file(folder: Path, expected: HubFile, *, models_dir: Path) -> None:
    path = folder / expected.name
    if not path.is_file():
        raise ModelError(f"{expected.name} is missing after the download")
    size = path.stat().st_size
    if expected.size is not None and size != expected.size:
        raise ModelError(f"{expected.name}: {size} bytes, the hub lists {expected.size}")
    if expected.sha256 is not None:
        # model.bin's hash is remembered: resolve_model would otherwise hash it again.
        got = (memo_sha256(path, models_dir) if expected.name == "model.bin"
               else sha256_file(path))
        if got != expected.sha256:
            raise ModelError(f"{expected.name}: SHA-256 {got}, the hub lists {expected.sha256}")
    elif expected.blob_id is not None and _git_blob_id(path) != expected.blob_id:
        raise ModelError(f"{expected.name}: its contents differ from the hub's listing")


def verify_pulled(folder: Path, listing: HubListing, *, models_dir: Path) -> str:
    """Check ``folder`` against ``listing``; return ``model.bin``'s SHA-256.

    A file that fails its check is removed from the cache, so the next pull fetches it again.
    """
    for expected in listing.wanted:
        try:
            _check_file(folder, expected, models_dir=models_dir)
        except ModelError as exc:
            _evict(folder / expected.name)
            raise ModelError(f"{listing.repo_id}: the download is damaged: {exc}; "
                             "pull again") from exc
    spec = read_ct2_spec(folder / "model.bin")
    if spec != "WhisperSpec":
        raise ModelError(f"{listing.repo_id}: model.bin is a CTranslate2 {spec}, not Whisper")
    return memo_sha256(folder / "model.bin", models_dir)


def _evict(path: Path) -> None:
    """Remove a cached file and the blob it links to (huggingface_hub's snapshot layout)."""
    target = path.resolve() if path.is_symlink() else None
    path.unlink(missing_ok=True)
    if target is not None:
        target.unlink(missing_ok=True)


def pull_model(name: str, *, models_dir: Path, endpoint: str | None = None,
               progress: bool = True, convert: bool = True) -> PulledModel:
    """Fetch hub model ``name`` into ``models_dir``, check it, and convert it for openai-whisper.

    ``endpoint`` replaces the hub's address (default: ``HF_ENDPOINT``, else huggingface.co);
    ``progress`` shows huggingface_hub's progress bar on standard error. Files already in the
    cache and matching the listing are not downloaded again. Raises :class:`ModelError` when the
    hub cannot be reached, the repo is not a CTranslate2 Whisper model, or a file fails its check.
    """
    from huggingface_hub import snapshot_download

    if not HuggingFaceHub(endpoint=endpoint).reachable():
        raise ModelError(f"{name}: the Hugging Face Hub cannot be reached (this machine looks "
                         "offline); pull on a machine with a network connection")
    listing = list_hub_files(name, endpoint=endpoint)
    _refuse_layout(listing)
    with _hub_errors(name):
        folder = Path(snapshot_download(
            name, cache_dir=models_dir / HUB_DIR_NAME, endpoint=endpoint,
            allow_patterns=list(CT2_PATTERNS), tqdm_class=None if progress else _silent_tqdm()))
    sha256 = verify_pulled(folder, listing, models_dir=models_dir)
    checkpoint = (ensure_whisper_checkpoint(folder, cache_dir=models_dir, sha256=sha256)
                  if convert else None)
    return PulledModel(name=name, commit=listing.commit, folder=folder, sha256=sha256,
                       checkpoint=checkpoint, files=listing.wanted)


def _silent_tqdm() -> type:
    from faster_whisper.utils import disabled_tqdm

    silent: type = disabled_tqdm
    return silent

"""CTranslate2 Whisper weights → an openai-whisper checkpoint, so both engines run the same model.

A CTranslate2 ``model.bin`` (as ctranslate2's ``specs/model_spec.py`` writes it, binary version 6)
is little-endian::

    u32 version · str spec_name · u32 revision · u32 n_variables
    n_variables of (str name · u8 rank · rank u32 dims · u8 dtype_id · u32 n_bytes · bytes)
    u32 n_aliases · n_aliases of (str alias · str target)

where ``str`` is a u16 length (counting a trailing NUL) then UTF-8 bytes and the NUL. dtype ids
follow ``include/ctranslate2/types.h``: float32, int8, int16, int32, float16, bfloat16.

openai-whisper loads ``{"dims": ModelDimensions, "model_state_dict": ...}``. The mapping is
one-to-one except that CTranslate2 fuses self-attention Q, K, V into one matrix (and
cross-attention K, V), which we split; Whisper's ``key`` projection has no bias, and dropping a
key bias is exact anyway: it adds ``q·b_k`` to every logit of a query, which softmax ignores.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from poddarkiv.archive.files import atomic_output, atomic_write_text
from poddarkiv.errors import ModelError

__all__ = [
    "CONVERTER_VERSION",
    "Ct2Model",
    "ct2_to_whisper_checkpoint",
    "ensure_whisper_checkpoint",
    "load_whisper_checkpoint",
    "read_ct2_model",
    "read_ct2_spec",
]

#: Bump when the mapping changes, so cached checkpoints are rebuilt.
CONVERTER_VERSION = 1
SUPPORTED_BINARY_VERSIONS = range(4, 7)
_DTYPES: tuple[Any, ...] = (np.float32, np.int8, np.int16, np.int32, np.float16, "bfloat16")


@dataclass(frozen=True, slots=True)
class Ct2Model:
    """A parsed ``model.bin``: its spec and its arrays by name (aliases resolved, dequantised)."""

    spec: str
    revision: int
    variables: Mapping[str, np.ndarray]


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ModelError(f"{getattr(f, 'name', 'model.bin')}: truncated CTranslate2 model")
    return struct.unpack("<" + fmt, data)[0]


def _read_str(f: BinaryIO) -> str:
    length = _read(f, "H")
    return str(f.read(length)[:-1].decode("utf-8"))


def _read_array(f: BinaryIO) -> tuple[str, np.ndarray]:
    name = _read_str(f)
    rank = _read(f, "B")
    shape = tuple(_read(f, "I") for _ in range(rank))
    type_id, n_bytes = _read(f, "B"), _read(f, "I")
    if type_id >= len(_DTYPES):
        raise ModelError(f"{name}: unknown CTranslate2 dtype id {type_id}")
    raw = f.read(n_bytes)
    if len(raw) != n_bytes:
        raise ModelError(f"{name}: truncated CTranslate2 model")
    if _DTYPES[type_id] == "bfloat16":
        # bfloat16 is the top half of a float32: widen by shifting into the high 16 bits.
        wide = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return name, wide.view(np.float32).reshape(shape)
    dtype = np.dtype(_DTYPES[type_id]).newbyteorder("<")
    return name, np.frombuffer(raw, dtype=dtype).reshape(shape)


def read_ct2_spec(path: Path) -> str:
    """The spec a CTranslate2 ``model.bin`` declares (``WhisperSpec``), reading only its header.
    """
    with open(path, "rb") as f:
        version = _read(f, "I")
        if version not in SUPPORTED_BINARY_VERSIONS:
            raise ModelError(f"{path}: not a CTranslate2 model (or binary version {version})")
        try:
            return _read_str(f)
        except UnicodeDecodeError as exc:
            raise ModelError(f"{path}: not a CTranslate2 model (unreadable spec name)") from exc


def read_ct2_model(path: Path) -> Ct2Model:
    """Parse a CTranslate2 ``model.bin``; quantised weights come back as float32."""
    with open(path, "rb") as f:
        version = _read(f, "I")
        if version not in SUPPORTED_BINARY_VERSIONS:
            raise ModelError(f"{path}: unsupported CTranslate2 binary version {version}")
        spec, revision = _read_str(f), _read(f, "I")
        variables = dict(_read_array(f) for _ in range(_read(f, "I")))
        for _ in range(_read(f, "I")):
            alias, target = _read_str(f), _read_str(f)
            variables[alias] = variables[target]
    return Ct2Model(spec=spec, revision=revision, variables=_dequantise(variables))


def _dequantise(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Undo ``model_spec._quantize``: ``q = rint(w * scale)`` per output row, so ``w = q / scale``.
    """
    if any(name.endswith("_zero") for name in variables):
        raise ModelError("AWQ-quantised CTranslate2 models (with *_zero) are not supported")
    out = {}
    for name, value in variables.items():
        if name.endswith("_scale"):
            continue
        scale = variables.get(name + "_scale")
        if scale is not None:
            rows = value.astype(np.float32).reshape(value.shape[0], -1)
            divisor = scale.astype(np.float32).reshape(-1, 1) if scale.ndim else scale
            value = (rows / divisor).reshape(value.shape)
        out[name] = value
    return out


def _count_layers(variables: Mapping[str, np.ndarray], prefix: str) -> int:
    found = {int(m.group(1)) for n in variables if (m := re.match(prefix + r"/layer_(\d+)/", n))}
    return len(found)


def _dims(v: Mapping[str, np.ndarray]) -> dict[str, int]:
    return {
        "n_mels": int(v["encoder/conv1/weight"].shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(v["encoder/position_encodings/encodings"].shape[1]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": _count_layers(v, "encoder"),
        "n_vocab": int(v["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(v["decoder/position_encodings/encodings"].shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": _count_layers(v, "decoder"),
    }


def _linear(v: Mapping[str, np.ndarray], src: str, dst: str) -> Iterator[tuple[str, np.ndarray]]:
    # Every Whisper linear and convolution has a bias, except ``key`` (see _split).
    yield f"{dst}.weight", v[f"{src}/weight"]
    yield f"{dst}.bias", v[f"{src}/bias"]


def _norm(v: Mapping[str, np.ndarray], src: str, dst: str) -> Iterator[tuple[str, np.ndarray]]:
    yield f"{dst}.weight", v[f"{src}/gamma"]
    yield f"{dst}.bias", v[f"{src}/beta"]


def _split(
    v: Mapping[str, np.ndarray], src: str, dst: str, parts: tuple[str, ...]
) -> Iterator[tuple[str, np.ndarray]]:
    """A fused projection, rows stacked in ``parts`` order, as separate Whisper linears."""
    weights = np.split(v[f"{src}/weight"], len(parts))
    biases = np.split(v[f"{src}/bias"], len(parts))
    for part, weight, bias in zip(parts, weights, biases, strict=True):
        yield f"{dst}.{part}.weight", weight
        if part != "key":
            yield f"{dst}.{part}.bias", bias


def _block(v: Mapping[str, np.ndarray], src: str, dst: str) -> Iterator[tuple[str, np.ndarray]]:
    yield from _split(v, f"{src}/self_attention/linear_0", f"{dst}.attn", ("query", "key", "value"))
    yield from _linear(v, f"{src}/self_attention/linear_1", f"{dst}.attn.out")
    yield from _norm(v, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
    if f"{src}/attention/linear_0/weight" in v:  # decoder blocks attend to the audio too
        yield from _linear(v, f"{src}/attention/linear_0", f"{dst}.cross_attn.query")
        yield from _split(v, f"{src}/attention/linear_1", f"{dst}.cross_attn", ("key", "value"))
        yield from _linear(v, f"{src}/attention/linear_2", f"{dst}.cross_attn.out")
        yield from _norm(v, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
    yield from _linear(v, f"{src}/ffn/linear_0", f"{dst}.mlp.0")
    yield from _linear(v, f"{src}/ffn/linear_1", f"{dst}.mlp.2")
    yield from _norm(v, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")


def _state_dict(v: Mapping[str, np.ndarray], dims: Mapping[str, int]) -> dict[str, np.ndarray]:
    items = [
        *_linear(v, "encoder/conv1", "encoder.conv1"),
        *_linear(v, "encoder/conv2", "encoder.conv2"),
        ("encoder.positional_embedding", v["encoder/position_encodings/encodings"]),
        *_norm(v, "encoder/layer_norm", "encoder.ln_post"),
        ("decoder.token_embedding.weight", v["decoder/embeddings/weight"]),
        ("decoder.positional_embedding", v["decoder/position_encodings/encodings"]),
        *_norm(v, "decoder/layer_norm", "decoder.ln"),
    ]
    for i in range(dims["n_audio_layer"]):
        items.extend(_block(v, f"encoder/layer_{i}", f"encoder.blocks.{i}"))
    for i in range(dims["n_text_layer"]):
        items.extend(_block(v, f"decoder/layer_{i}", f"decoder.blocks.{i}"))
    return dict(items)


def ct2_to_whisper_checkpoint(model: Ct2Model, *, alignment_heads: list[list[int]] | None = None,
                              ) -> dict[str, Any]:
    """The openai-whisper checkpoint dict (numpy arrays) for a parsed CTranslate2 Whisper model.

    ``alignment_heads`` (from the model's ``config.json``) travels as an extra key: whisper's
    ``load_model`` ignores it, and our engine applies it for word timestamps.
    """
    v = model.variables
    if model.spec != "WhisperSpec":
        raise ModelError(f"not a Whisper model: CTranslate2 spec {model.spec!r}")
    if bool(v.get("decoder/scale_embeddings", False)):
        raise ModelError("decoder scales its embeddings; openai-whisper's does not")
    try:
        dims = _dims(v)
        state = _state_dict(v, dims)
    except KeyError as exc:
        raise ModelError(f"CTranslate2 Whisper model lacks {exc.args[0]}") from exc
    if "decoder/projection/weight" in v and not np.array_equal(
        v["decoder/projection/weight"], v["decoder/embeddings/weight"]
    ):
        raise ModelError("output projection is not tied to the embeddings, as Whisper's is")
    return {"dims": dims, "model_state_dict": state, "alignment_heads": alignment_heads}


def _alignment_heads(ct2_dir: Path) -> list[list[int]] | None:
    config = ct2_dir / "config.json"
    if not config.is_file():
        return None
    heads = json.loads(config.read_text(encoding="utf-8")).get("alignment_heads")
    return [[int(layer), int(head)] for layer, head in heads] if heads else None


def _save_torch(checkpoint: dict[str, Any], out: Path) -> None:
    """Write ``checkpoint`` with torch, atomically (temp file in the same folder, then rename)."""
    import torch

    tensors = {k: torch.from_numpy(np.array(a)) for k, a in checkpoint["model_state_dict"].items()}
    payload = {**checkpoint, "model_state_dict": tensors}
    with atomic_output(out) as f:
        torch.save(payload, f)


def ensure_whisper_checkpoint(ct2_dir: Path, *, cache_dir: Path, sha256: str) -> Path:
    """The openai-whisper checkpoint for the CTranslate2 model in ``ct2_dir``, converted once.

    ``sha256`` is the source ``model.bin``'s hash: it names the cached file, and a marker beside
    it (written last) records the hash, size and converter version so later calls skip the work.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"openai-whisper-{sha256[:16]}.pt"
    marker = out.with_name(out.name + ".ok")
    if out.is_file() and _marker_matches(marker, sha256=sha256, size=out.stat().st_size):
        return out
    checkpoint = ct2_to_whisper_checkpoint(
        read_ct2_model(ct2_dir / "model.bin"), alignment_heads=_alignment_heads(ct2_dir)
    )
    checkpoint["source_sha256"] = sha256
    _save_torch(checkpoint, out)
    record = {"sha256": sha256, "size": out.stat().st_size, "converter": CONVERTER_VERSION}
    atomic_write_text(marker, json.dumps(record))
    return out


def _marker_matches(marker: Path, *, sha256: str, size: int) -> bool:
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(record == {"sha256": sha256, "size": size, "converter": CONVERTER_VERSION})


def load_whisper_checkpoint(path: Path, *, sha256: str | None = None, device: str = "cpu",
                            threads: int = 0) -> Any:
    """What ``whisper.load_model(path)`` does, plus the alignment heads word timestamps need.

    Our checkpoints carry the heads from CTranslate2's ``config.json``; OpenAI's own carry
    their SHA-256 in their download URL, which gives whisper's table of heads.
    """
    import torch
    import whisper
    from whisper.model import ModelDimensions, Whisper

    if threads > 0:
        torch.set_num_threads(threads)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    net = Whisper(ModelDimensions(**checkpoint["dims"]))
    net.load_state_dict(checkpoint["model_state_dict"])
    heads = checkpoint.get("alignment_heads")
    if heads:
        mask = torch.zeros(net.dims.n_text_layer, net.dims.n_text_head, dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        net.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    else:
        for size, url in whisper._MODELS.items():
            if sha256 and sha256 in url:
                net.set_alignment_heads(whisper._ALIGNMENT_HEADS[size])
    return net.to(device)

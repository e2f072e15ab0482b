"""CTranslate2 → openai-whisper conversion: the same weights, in Whisper's layout.

The fast tests build a tiny random openai-whisper model, write it the way CTranslate2's
converter would (fused Q/K/V with a zero key bias, layer norms as gamma/beta, tied output
projection as an alias), and check that conversion gives back exactly the original state dict.
The slow tests convert the bundled base model and compare its encoder with CTranslate2's own.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import whisper
from whisper.model import ModelDimensions, Whisper

from poddarkiv.errors import ModelError
from poddarkiv.ingest.convert import (
    ct2_to_whisper_checkpoint,
    ensure_whisper_checkpoint,
    load_whisper_checkpoint,
    read_ct2_model,
)

TINY = ModelDimensions(n_mels=4, n_audio_ctx=6, n_audio_state=8, n_audio_head=2, n_audio_layer=2,
                       n_vocab=12, n_text_ctx=5, n_text_state=8, n_text_head=2, n_text_layer=2)
_TYPE_IDS = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "float16": 4}


def _str(text: str) -> bytes:
    data = text.encode() + b"\0"
    return struct.pack("<H", len(data)) + data


def write_ct2(path: Path, variables: dict[str, Any], *, aliases: dict[str, str] | None = None,
              spec: str = "WhisperSpec", version: int = 6) -> None:
    """A ``model.bin`` laid out as ctranslate2's ``ModelSpec._serialize`` writes it.

    A value is an array, or ``("bfloat16", float32 array)`` for bfloat16 storage.
    """
    out = [struct.pack("<I", version), _str(spec), struct.pack("<I", 3),
           struct.pack("<I", len(variables))]
    for name, value in sorted(variables.items()):
        if isinstance(value, tuple):  # bfloat16: the high halves of the float32 words
            array = value[1].astype(np.float32)
            raw, type_id = (array.view(np.uint32) >> 16).astype("<u2").tobytes(), 5
        else:
            array = np.asarray(value)
            raw, type_id = array.astype(array.dtype.newbyteorder("<")).tobytes(), \
                _TYPE_IDS[array.dtype.name]
        out += [_str(name), struct.pack("<B", array.ndim),
                *(struct.pack("<I", d) for d in array.shape),
                struct.pack("<BI", type_id, len(raw)), raw]
    aliases = aliases or {}
    out.append(struct.pack("<I", len(aliases)))
    out += [_str(a) + _str(t) for a, t in aliases.items()]
    path.write_bytes(b"".join(out))


def _ct2_attention(s: dict[str, np.ndarray], src: str, dst: str, *, cross: bool
                   ) -> dict[str, np.ndarray]:
    """One attention block as CTranslate2 stores it (the key projection gets a zero bias)."""
    zero = np.zeros_like(s[f"{src}.query.bias"])
    fused = [f"{src}.key", f"{src}.value"] if cross else [f"{src}.query", f"{src}.key",
                                                          f"{src}.value"]
    fused_index = 1 if cross else 0
    out = {
        f"{dst}/linear_{fused_index}/weight": np.concatenate([s[f"{p}.weight"] for p in fused]),
        f"{dst}/linear_{fused_index}/bias": np.concatenate(
            [zero if p.endswith("key") else s[f"{p}.bias"] for p in fused]),
        f"{dst}/linear_{fused_index + 1}/weight": s[f"{src}.out.weight"],
        f"{dst}/linear_{fused_index + 1}/bias": s[f"{src}.out.bias"],
    }
    if cross:
        out[f"{dst}/linear_0/weight"] = s[f"{src}.query.weight"]
        out[f"{dst}/linear_0/bias"] = s[f"{src}.query.bias"]
    return out


def _ct2_block(s: dict[str, np.ndarray], src: str, dst: str, *, decoder: bool
               ) -> dict[str, np.ndarray]:
    out = _ct2_attention(s, f"{src}.attn", f"{dst}/self_attention", cross=False)
    pairs = [("attn_ln", "self_attention/layer_norm"), ("mlp_ln", "ffn/layer_norm")]
    if decoder:
        out |= _ct2_attention(s, f"{src}.cross_attn", f"{dst}/attention", cross=True)
        pairs.append(("cross_attn_ln", "attention/layer_norm"))
    for ours, theirs in pairs:
        out[f"{dst}/{theirs}/gamma"] = s[f"{src}.{ours}.weight"]
        out[f"{dst}/{theirs}/beta"] = s[f"{src}.{ours}.bias"]
    for i, mlp in ((0, "0"), (1, "2")):
        out[f"{dst}/ffn/linear_{i}/weight"] = s[f"{src}.mlp.{mlp}.weight"]
        out[f"{dst}/ffn/linear_{i}/bias"] = s[f"{src}.mlp.{mlp}.bias"]
    return out


def ct2_variables(model: Whisper) -> dict[str, Any]:
    """``model``'s weights under CTranslate2's WhisperSpec names."""
    s = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    d = model.dims
    v: dict[str, Any] = {
        "encoder/num_heads": np.int16(d.n_audio_head), "decoder/num_heads": np.int16(d.n_text_head),
        "decoder/scale_embeddings": np.int8(0),
        "encoder/position_encodings/encodings": s["encoder.positional_embedding"],
        "decoder/position_encodings/encodings": s["decoder.positional_embedding"],
        "decoder/embeddings/weight": s["decoder.token_embedding.weight"],
    }
    for conv in ("conv1", "conv2"):
        v[f"encoder/{conv}/weight"] = s[f"encoder.{conv}.weight"]
        v[f"encoder/{conv}/bias"] = s[f"encoder.{conv}.bias"]
    for ours, theirs in (("encoder.ln_post", "encoder/layer_norm"), ("decoder.ln",
                                                                     "decoder/layer_norm")):
        v[f"{theirs}/gamma"], v[f"{theirs}/beta"] = s[f"{ours}.weight"], s[f"{ours}.bias"]
    for i in range(d.n_audio_layer):
        v |= _ct2_block(s, f"encoder.blocks.{i}", f"encoder/layer_{i}", decoder=False)
    for i in range(d.n_text_layer):
        v |= _ct2_block(s, f"decoder.blocks.{i}", f"decoder/layer_{i}", decoder=True)
    return v


@pytest.fixture
def tiny() -> Whisper:
    """A tiny openai-whisper model with random weights (every parameter distinct)."""
    torch.manual_seed(0)
    model = Whisper(TINY)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p))
    return model


@pytest.fixture
def tiny_ct2(tmp_path: Path, tiny: Whisper) -> Path:
    """``tiny`` written as a CTranslate2 model folder (float32, projection aliased)."""
    folder = tmp_path / "ct2"
    folder.mkdir()
    write_ct2(folder / "model.bin", ct2_variables(tiny),
              aliases={"decoder/projection/weight": "decoder/embeddings/weight"})
    (folder / "config.json").write_text('{"alignment_heads": [[0, 1]]}')
    return folder


def test_round_trip_gives_back_every_weight(tiny: Whisper, tiny_ct2: Path) -> None:
    checkpoint = ct2_to_whisper_checkpoint(read_ct2_model(tiny_ct2 / "model.bin"))
    assert checkpoint["dims"] == TINY.__dict__
    rebuilt = Whisper(ModelDimensions(**checkpoint["dims"]))
    state = {k: torch.from_numpy(np.array(v)) for k, v in checkpoint["model_state_dict"].items()}
    rebuilt.load_state_dict(state)  # strict: no key missing, none extra
    for name, value in tiny.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[name], value), name


def test_fused_projections_split_in_query_key_value_order(tiny: Whisper, tiny_ct2: Path) -> None:
    state = ct2_to_whisper_checkpoint(read_ct2_model(tiny_ct2 / "model.bin"))["model_state_dict"]
    for part in ("query", "key", "value"):
        expected = tiny.state_dict()[f"decoder.blocks.1.attn.{part}.weight"].numpy()
        assert np.array_equal(state[f"decoder.blocks.1.attn.{part}.weight"], expected)
    assert "encoder.blocks.0.attn.key.bias" not in state
    assert "decoder.blocks.0.cross_attn.key.bias" not in state
    assert "decoder.blocks.0.cross_attn.value.bias" in state


def test_float16_storage_is_kept(tmp_path: Path, tiny: Whisper) -> None:
    variables = {k: v.astype(np.float16) if getattr(v, "dtype", None) == np.float32 else v
                 for k, v in ct2_variables(tiny).items()}
    write_ct2(tmp_path / "model.bin", variables)
    state = ct2_to_whisper_checkpoint(read_ct2_model(tmp_path / "model.bin"))["model_state_dict"]
    weight = state["encoder.conv2.weight"]
    assert weight.dtype == np.float16
    assert np.array_equal(weight, tiny.state_dict()["encoder.conv2.weight"].numpy()
                          .astype(np.float16))


def test_bfloat16_storage_widens_to_float32(tmp_path: Path, tiny: Whisper) -> None:
    variables = ct2_variables(tiny)
    original = variables["encoder/conv1/weight"]
    variables["encoder/conv1/weight"] = ("bfloat16", original)
    write_ct2(tmp_path / "model.bin", variables)
    loaded = read_ct2_model(tmp_path / "model.bin").variables["encoder/conv1/weight"]
    assert loaded.dtype == np.float32
    assert np.allclose(loaded, original, rtol=2**-7)  # bfloat16 keeps 8 significant bits


def test_int8_weights_are_dequantised_per_row(tmp_path: Path, tiny: Whisper) -> None:
    variables = ct2_variables(tiny)
    name = "decoder/layer_0/ffn/linear_0/weight"
    weight = variables[name]
    scale = (127.0 / np.abs(weight).max(axis=1)).astype(np.float32)  # model_spec._quantize
    variables[name] = np.rint(weight * scale[:, None]).astype(np.int8)
    variables[name + "_scale"] = scale
    write_ct2(tmp_path / "model.bin", variables)
    state = ct2_to_whisper_checkpoint(read_ct2_model(tmp_path / "model.bin"))["model_state_dict"]
    restored = state["decoder.blocks.0.mlp.0.weight"]
    assert restored.dtype == np.float32
    assert np.abs(restored - weight).max() <= (0.5 / scale).max() + 1e-6
    assert not any(k.endswith("_scale") for k in state)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 3}, "binary version 3"),
        ({"spec": "TransformerSpec"}, "not a Whisper model"),
    ],
)
def test_other_models_are_refused(tmp_path: Path, tiny: Whisper, change: dict[str, Any],
                                  message: str) -> None:
    write_ct2(tmp_path / "model.bin", ct2_variables(tiny), **change)
    with pytest.raises(ModelError, match=message):
        ct2_to_whisper_checkpoint(read_ct2_model(tmp_path / "model.bin"))


def test_missing_variable_is_named(tmp_path: Path, tiny: Whisper) -> None:
    variables = ct2_variables(tiny)
    del variables["decoder/layer_1/attention/linear_2/bias"]
    write_ct2(tmp_path / "model.bin", variables)
    with pytest.raises(ModelError, match="decoder/layer_1/attention/linear_2/bias"):
        ct2_to_whisper_checkpoint(read_ct2_model(tmp_path / "model.bin"))


def test_truncated_file_is_a_model_error(tiny_ct2: Path) -> None:
    path = tiny_ct2 / "model.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelError, match="truncated"):
        read_ct2_model(path)


def test_checkpoint_loads_with_whisper_and_is_cached(tiny_ct2: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = ensure_whisper_checkpoint(tiny_ct2, cache_dir=cache, sha256="ab" * 32)
    model = whisper.load_model(str(path), device="cpu")
    assert model.dims == TINY
    assert torch.load(path, weights_only=True)["alignment_heads"] == [[0, 1]]
    stamp = path.stat().st_mtime_ns
    assert ensure_whisper_checkpoint(tiny_ct2, cache_dir=cache, sha256="ab" * 32) == path
    assert path.stat().st_mtime_ns == stamp  # reused, not rewritten
    assert not list(cache.glob("*.tmp"))


def test_our_loader_applies_the_alignment_heads(tiny_ct2: Path, tmp_path: Path) -> None:
    path = ensure_whisper_checkpoint(tiny_ct2, cache_dir=tmp_path, sha256="ef" * 32)
    model = load_whisper_checkpoint(path)
    heads = model.alignment_heads.to_dense()
    assert heads.nonzero().tolist() == [[0, 1]]  # from config.json; the default is layer 1


def test_damaged_cached_checkpoint_is_rebuilt(tiny_ct2: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = ensure_whisper_checkpoint(tiny_ct2, cache_dir=cache, sha256="cd" * 32)
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[: size // 2])
    ensure_whisper_checkpoint(tiny_ct2, cache_dir=cache, sha256="cd" * 32)
    assert path.stat().st_size == size
    assert whisper.load_model(str(path), device="cpu").dims == TINY


# --- the real bundled model --------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled base model, assembled in $PODDARKIV_TEST_MODEL_CACHE (or a temp folder)."""
    from poddarkiv.ingest.model import assemble_bundled_model

    env = os.environ.get("PODDARKIV_TEST_MODEL_CACHE")
    return assemble_bundled_model(Path(env) if env else tmp_path_factory.mktemp("models"))


@pytest.mark.slow
def test_bundled_base_encoder_matches_ctranslate2(base_dir: Path) -> None:
    import ctranslate2

    from poddarkiv.ingest.audio import decode_audio
    from poddarkiv.ingest.model import BUNDLED_MODEL_SHA256

    path = ensure_whisper_checkpoint(base_dir, cache_dir=base_dir.parent,
                                     sha256=BUNDLED_MODEL_SHA256)
    model = whisper.load_model(str(path), device="cpu")
    assert (model.dims.n_audio_layer, model.dims.n_text_state, model.dims.n_vocab) == (6, 512,
                                                                                       51865)
    clip = Path(__file__).parents[1] / "data" / "audio" / "iop-sv.mp3"
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(decode_audio(clip)))
    with torch.no_grad():
        ours = model.encoder(mel[None]).numpy()
    reference = ctranslate2.models.Whisper(str(base_dir), device="cpu", compute_type="float32")
    theirs = np.array(reference.encode(ctranslate2.StorageView.from_array(mel[None].numpy())))
    assert ours.shape == theirs.shape == (1, 1500, 512)
    # float32 on both sides: they differ by rounding only (about 7e-4 at a peak of 24)
    assert np.abs(ours - theirs).max() < 1e-4 * np.abs(theirs).max()

"""Settings come from flags, then PODDARKIV_* variables, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from poddarkiv.config import Settings, settings_from_env
from poddarkiv.errors import ConfigError


def test_defaults_work_offline_in_swedish() -> None:
    s = settings_from_env({})
    assert s == Settings()
    assert (s.language, s.engine, s.model, s.prefer) == (
        "sv", "faster-whisper", "base", "publisher")
    assert s.models_dir == s.data_dir / "models"


def test_environment_overrides_defaults_and_flags_override_environment() -> None:
    env = {"PODDARKIV_DATA": "/srv/arkiv", "PODDARKIV_BEAM_SIZE": "2", "PODDARKIV_VAD": "ja",
           "PODDARKIV_ENGINE": "openai-whisper"}
    s = settings_from_env(env, engine="faster-whisper")
    assert s.data_dir == Path("/srv/arkiv")
    assert (s.beam_size, s.vad, s.engine) == (2, True, "faster-whisper")


def test_unset_flags_do_not_override() -> None:
    s = settings_from_env({"PODDARKIV_PORT": "9000"}, port=None)
    assert s.port == 9000
    assert s.replace(port=None, host="0.0.0.0").port == 9000


@pytest.mark.parametrize("env", [{"PODDARKIV_PORT": "åtta"}, {"PODDARKIV_VAD": "kanske"}])
def test_unreadable_environment_values_are_a_config_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="PODDARKIV_"):
        settings_from_env(env)


@pytest.mark.parametrize("changes, message", [
    ({"engine": "whisper.cpp"}, "unknown engine"),
    ({"device": "tpu"}, "unknown device"),
    ({"engine": "openai-whisper", "vad": True}, "needs the faster-whisper engine"),
    ({"beam_size": 0}, "beam size"),
    ({"batch_size": 0}, "batch size"),
])
def test_impossible_settings_fail_at_the_edge(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from_env({}, **changes)


def test_batch_size_comes_from_the_environment_and_1_turns_batching_off() -> None:
    assert settings_from_env({}).batch_size == 8  # bench/README.md, "Transcription"
    assert settings_from_env({"PODDARKIV_BATCH_SIZE": "1"}).batch_size == 1


def test_compute_type_comes_from_the_environment() -> None:
    settings = settings_from_env({"PODDARKIV_COMPUTE_TYPE": "int8_float32"})
    assert settings.compute_type == "int8_float32"
    assert settings_from_env({}).compute_type is None


def test_with_a_broker_a_visibility_timeout_not_longer_than_the_longest_episode_is_refused(
        ) -> None:
    env = {"PODDARKIV_BROKER": "redis://127.0.0.1:6379/0",
           "PODDARKIV_JOB_VISIBILITY_TIMEOUT_S": "3600"}
    with pytest.raises(ConfigError) as caught:
        settings_from_env(env)
    message = str(caught.value)
    assert "job_visibility_timeout_s = 3600 s" in message
    assert "audio_max_duration_s = 21600 s" in message
    assert "PODDARKIV_JOB_VISIBILITY_TIMEOUT_S" in message
    with pytest.raises(ConfigError, match="must be longer than the longest episode"):
        settings_from_env(env, job_visibility_timeout_s=21600.0)  # equal is not longer
    assert settings_from_env({**env, "PODDARKIV_AUDIO_MAX_DURATION_S": "3000"}).broker


def test_the_default_visibility_timeout_is_twice_the_longest_episode() -> None:
    settings = settings_from_env({"PODDARKIV_BROKER": "redis://127.0.0.1:6379/0"})
    assert settings.job_visibility_timeout_s == 2 * settings.audio_max_duration_s


def test_without_a_broker_the_visibility_timeout_is_not_checked() -> None:
    # Nothing reads it without a cluster; a long-episode archive need not mind it.
    assert settings_from_env({"PODDARKIV_AUDIO_MAX_DURATION_S": "86400"}).broker is None

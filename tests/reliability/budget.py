"""How hard the reliability tests push: small by default (CI), larger through the environment.

The defaults keep the whole reliability suite to a few minutes on a slow two-core machine. The
full figures in ``docs/reliability.md`` come from the counts given there, for example::

    PODDARKIV_FAULT_LOOPS=100 PODDARKIV_LOAD_S=60 PODDARKIV_FUZZ_EXAMPLES=2000 \\
        .venv/bin/python -m pytest tests/reliability

Reading the environment here is deliberate: these are knobs of the test run, not settings of
poddarkiv (which reads ``PODDARKIV_*`` only in :func:`poddarkiv.config.settings_from_env`).
"""

from __future__ import annotations

import os

__all__ = ["FAULT_LOOPS", "FUZZ_EXAMPLES", "LOAD_S", "env_int"]


def env_int(name: str, default: int) -> int:
    """The positive integer in ``$name``, else ``default``."""
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


#: kill -9 restarts per fault point (download, transcription, catalogue write, index commit).
FAULT_LOOPS = env_int("PODDARKIV_FAULT_LOOPS", 10)
#: Seconds of searching while an ingest commits.
LOAD_S = env_int("PODDARKIV_LOAD_S", 15)
#: Hypothesis examples for the search endpoint's fuzzing.
FUZZ_EXAMPLES = env_int("PODDARKIV_FUZZ_EXAMPLES", 150)

"""Proof that nothing is lost: injected faults, hostile input and load (issue 8).

Long loops run at a small count by default; the environment variables in
:mod:`tests.reliability.budget` raise them for the full figures in ``docs/reliability.md``.
"""

"""Site benchmark: requests per second and latency of the main pages, beside a static file.

    .venv/bin/python bench/site.py                       # defaults: 8 concurrent, 400 requests
    .venv/bin/python bench/site.py --concurrency 16 --requests 1000 --max-seconds 30

The sample archive (``tests/site/site_archive.py``: five episodes, real Whoosh index, themes
applied) is built in a temporary folder; a child process serves it with uvicorn on 127.0.0.1
(one worker, as ``poddarkiv serve`` does), so the load generator does not share its interpreter.
Each target gets ``--warmup`` unmeasured requests, then the same number of requests from
``--concurrency`` keep-alive connections, stopping early at ``--max-seconds``. The static
stylesheet, served by the same server in the same run (first and last, to show drift), is the
ceiling: the other rows show their rate as a fraction of the faster static row. The load
generator is Python too and shares the machine, so on a small machine it is part of what is
measured; compare rows within one run, not across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER_START_TIMEOUT_S = 30.0
TARGETS = {
    "static file (site.css)": "/static/site.css",
    "home": "/",
    "search": "/sok?q=partnerskap",
    "search .json": "/sok.json?q=upphandling+kommun",
    "episode": "/avsnitt/rattsfallet-i-alingsas?t=14",
    "episode 304": "/avsnitt/rattsfallet-i-alingsas?t=14",
    "static file (again)": "/static/site.css",
}


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: tuple[float, ...]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _serve(data_dir: str, port: int) -> None:
    """Child process: serve the prebuilt archive."""
    import uvicorn

    from poddarkiv.config import Settings
    from poddarkiv.site.app import create_app

    app = create_app(Settings(data_dir=Path(data_dir)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _build(data_dir: Path) -> None:
    from tests.e2e.live_server import sample_site

    sample_site(data_dir).close()


async def _worker(client: httpx.AsyncClient, path: str, headers: dict[str, str], budget: list[int],
                  deadline: float, latencies: list[float], errors: list[int]) -> None:
    while budget[0] > 0 and time.perf_counter() < deadline:
        budget[0] -= 1
        start = time.perf_counter()
        response = await client.get(path, headers=headers)
        latencies.append((time.perf_counter() - start) * 1000)
        if response.status_code not in (200, 304):
            errors[0] += 1


async def _run(base: str, name: str, path: str, args: argparse.Namespace) -> Result:
    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        first = await client.get(path)
        headers = {"if-none-match": first.headers["etag"]} if name.endswith("304") else {}
        if name.startswith("static"):
            path = first.url.raw_path.decode()
        await _worker(client, path, headers, [args.warmup],
                      time.perf_counter() + args.max_seconds, [], [0])
        latencies: list[float] = []
        errors = [0]
        budget = [args.requests]
        start = time.perf_counter()
        deadline = start + args.max_seconds
        await asyncio.gather(*(_worker(client, path, headers, budget, deadline, latencies, errors)
                               for _ in range(args.concurrency)))
        return Result(name, len(latencies), errors[0], time.perf_counter() - start,
                      tuple(latencies))


def _wait_until_up(base: str, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit("the server exited")
        try:
            httpx.get(base + "/om", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def _report(results: list[Result], args: argparse.Namespace) -> None:
    ceiling = max(r.rps for r in results if r.name.startswith("static")) or 1.0
    print(f"\n{args.concurrency} concurrent connections, up to {args.requests} requests or "
          f"{args.max_seconds:.0f} s per row, loopback, one uvicorn worker\n")
    print(f"{'target':<24}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}{'vs static':>11}")
    for r in results:
        print(f"{r.name:<24}{r.rps:>9.0f}{statistics.median(r.latencies_ms):>9.1f}"
              f"{r.percentile(0.95):>9.1f}{r.errors:>8}{r.rps / ceiling:>10.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured requests per row")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve[0], int(args.serve[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        _build(data_dir)
        base = f"http://127.0.0.1:{args.port}"
        child = subprocess.Popen([sys.executable, __file__, "--serve", str(data_dir),
                                  str(args.port)])
        try:
            _wait_until_up(base, child)
            results = [asyncio.run(_run(base, name, path, args))
                       for name, path in TARGETS.items()]
        finally:
            child.terminate()
            child.wait(10)
    _report(results, args)


if __name__ == "__main__":
    main()

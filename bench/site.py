"""Site benchmark: requests per second and latency of the main pages, beside a static file.

    .venv/bin/python bench/site.py                       # defaults: 8 concurrent, 400 requests
    .venv/bin/python bench/site.py --concurrency 16 --requests 1000 --max-seconds 30
    git worktree add /tmp/before ab69a3f
    .venv/bin/python bench/site.py --before /tmp/before          # then and now, side by side

The sample archive (``tests/site/site_archive.py``: five episodes, real Whoosh index, themes
applied) is built in a temporary folder; a child process serves it with uvicorn on 127.0.0.1
(one worker, as ``poddarkiv serve`` does), so the load generator does not share its interpreter.
Each target gets ``--warmup`` unmeasured requests, then the same number of requests from
``--concurrency`` keep-alive connections, stopping early at ``--max-seconds``. The static
stylesheet, served by the same server in the same run (first and last, to show drift), is the
ceiling: the other rows show their rate as a fraction of the faster static row. The load
generator is Python too and shares the machine, so on a small machine it is part of what is
measured; compare rows within one run, not across machines.

``--before CHECKOUT`` serves a checkout of an earlier commit too (its own sample archive, built
and served by its own code), from a second child process, and measures each row on both in
``--slices`` slices taken in turn (before, now, now, before, ...), so that both sides meet the
same load from whatever else the machine is running. Each side's rows are read against its own
static file, and the last column compares those fractions: below 1.00x, the page lost ground
on the static file since that commit. The earlier code is imported from a tree of links shaped
as the installed package (``poddarkiv/{archive,ingest,site}``), put first by a
``sitecustomize`` that also removes this checkout's editable install from the import system.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
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


#: Run in the earlier checkout (its working directory): its own sample archive, by its code.
_BUILD_BEFORE = ("import sys; from pathlib import Path; "
                 "from tests.e2e.live_server import sample_site; "
                 "sample_site(Path(sys.argv[1])).close()")
_SITECUSTOMIZE = """\
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()
                    and "editable" not in type(f).__module__.lower()]
sys.path.insert(0, {tree!r})
import poddarkiv  # the earlier tree's, before anything puts a checkout first
sys.path.remove({tree!r})
"""


def _import_tree(checkout: Path, work: Path) -> dict[str, str]:
    """Links shaped as the installed package, and the environment that imports from them."""
    package = work / "tree" / "poddarkiv"
    package.mkdir(parents=True)
    for item in (checkout / "poddarkiv").iterdir():
        (package / item.name).symlink_to(item)
    for folder in ("archive", "ingest", "site"):
        (package / folder).symlink_to(checkout / folder)
    hook = work / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        textwrap.dedent(_SITECUSTOMIZE).format(tree=str(package.parent)), "utf-8")
    return {**os.environ, "PYTHONPATH": str(hook)}


@dataclass(frozen=True)
class Side:
    """One server: which code, and where it answers."""

    label: str
    base: str
    child: subprocess.Popen[bytes]


@contextmanager
def _server(label: str, port: int, work: Path, checkout: Path | None) -> Iterator[Side]:
    """Build the sample archive and serve it with this checkout's code or ``checkout``'s."""
    data_dir = work / label / "data"
    env, cwd = None, None
    if checkout is None:
        _build(data_dir)
    else:
        env, cwd = _import_tree(checkout.resolve(), work / label), checkout
        subprocess.run([sys.executable, "-c", _BUILD_BEFORE, str(data_dir)], env=env,
                       cwd=cwd, check=True)
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(data_dir), str(port)],
                             env=env, cwd=cwd)
    try:
        side = Side(label, f"http://127.0.0.1:{port}", child)
        _wait_until_up(side.base, child)
        yield side
    finally:
        child.terminate()
        child.wait(10)


async def _worker(client: httpx.AsyncClient, path: str, headers: dict[str, str], budget: list[int],
                  deadline: float, latencies: list[float], errors: list[int]) -> None:
    while budget[0] > 0 and time.perf_counter() < deadline:
        budget[0] -= 1
        start = time.perf_counter()
        response = await client.get(path, headers=headers)
        latencies.append((time.perf_counter() - start) * 1000)
        if response.status_code not in (200, 304):
            errors[0] += 1


async def _prepare(client: httpx.AsyncClient, name: str, path: str,
                   args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """The path and headers a row sends (the static URL with its version, the ETag for a 304
    row), after the row's unmeasured requests."""
    first = await client.get(path)
    headers = {"if-none-match": first.headers["etag"]} if name.endswith("304") else {}
    if name.startswith("static"):
        path = first.url.raw_path.decode()
    await _worker(client, path, headers, [args.warmup],
                  time.perf_counter() + args.max_seconds, [], [0])
    return path, headers


async def _row(sides: list[Side], name: str, path: str, args: argparse.Namespace) -> list[Result]:
    """One row on every side: ``args.slices`` slices of the requests, the sides in turn first,
    so that both meet the same load from whatever else the machine runs."""
    limits = httpx.Limits(max_connections=args.concurrency)
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(httpx.AsyncClient(
            base_url=side.base, limits=limits, timeout=30.0)) for side in sides]
        requests = [await _prepare(client, name, path, args) for client in clients]
        latencies: list[list[float]] = [[] for _ in sides]
        errors = [[0] for _ in sides]
        seconds = [0.0 for _ in sides]
        for number in range(args.slices):
            order = range(len(sides)) if number % 2 == 0 else reversed(range(len(sides)))
            for k in order:
                budget = [-(-args.requests // args.slices)]
                start = time.perf_counter()
                deadline = start + args.max_seconds / args.slices
                await asyncio.gather(*(_worker(clients[k], *requests[k], budget, deadline,
                                               latencies[k], errors[k])
                                       for _ in range(args.concurrency)))
                seconds[k] += time.perf_counter() - start
        return [Result(name, len(latencies[k]), errors[k][0], seconds[k], tuple(latencies[k]))
                for k in range(len(sides))]


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


def _ceiling(results: list[Result]) -> float:
    return max(r.rps for r in results if r.name.startswith("static")) or 1.0


def _report(results: list[Result], args: argparse.Namespace) -> None:
    ceiling = _ceiling(results)
    print(f"\n{args.concurrency} concurrent connections, up to {args.requests} requests or "
          f"{args.max_seconds:.0f} s per row, loopback, one uvicorn worker\n")
    print(f"{'target':<24}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}{'vs static':>11}")
    for r in results:
        print(f"{r.name:<24}{r.rps:>9.0f}{statistics.median(r.latencies_ms):>9.1f}"
              f"{r.percentile(0.95):>9.1f}{r.errors:>8}{r.rps / ceiling:>10.2f}x")


def _report_sides(before: list[Result], now: list[Result], args: argparse.Namespace) -> None:
    """Each side's req/s and fraction of its own static file, and now against before."""
    print(f"\n{args.concurrency} concurrent connections, up to {args.requests} requests or "
          f"{args.max_seconds:.0f} s per row and side in {args.slices} slices taken in turn, "
          "loopback, one uvicorn worker per side\n")
    print(f"{'target':<24}{'before req/s':>13}{'now req/s':>11}{'before p50':>12}"
          f"{'now p50':>9}{'before vs static':>18}{'now vs static':>15}{'now/before':>12}"
          f"{'errors':>8}")
    ceilings = _ceiling(before), _ceiling(now)
    for old, new in zip(before, now, strict=True):
        then, today = old.rps / ceilings[0], new.rps / ceilings[1]
        print(f"{old.name:<24}{old.rps:>13.0f}{new.rps:>11.0f}"
              f"{statistics.median(old.latencies_ms):>12.1f}"
              f"{statistics.median(new.latencies_ms):>9.1f}{then:>17.2f}x{today:>14.2f}x"
              f"{today / then if then else 0:>11.2f}x{old.errors + new.errors:>8}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured requests per row")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--before", type=Path, metavar="CHECKOUT",
                        help="also serve this checkout of an earlier commit, side by side")
    parser.add_argument("--slices", type=int, default=10,
                        help="with --before: slices of each row, the sides in turn")
    parser.add_argument("--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve[0], int(args.serve[1]))
        return
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        sides = [stack.enter_context(_server("now", args.port, Path(tmp), None))]
        if args.before is not None:
            sides.insert(0, stack.enter_context(_server("before", args.port + 1, Path(tmp),
                                                        args.before)))
        else:
            args.slices = 1
        rows = [asyncio.run(_row(sides, name, path, args)) for name, path in TARGETS.items()]
    if args.before is None:
        _report([row[0] for row in rows], args)
    else:
        _report_sides([row[0] for row in rows], [row[1] for row in rows], args)


if __name__ == "__main__":
    main()

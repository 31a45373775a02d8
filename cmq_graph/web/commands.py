"""The ``serve`` command: the read-only SPARQL service and its query page."""

from __future__ import annotations

import argparse
import os

from ..commands import add_store_option, store_root
from ..errors import StoreError
from ..store import current_generation


def _serve(args: argparse.Namespace) -> int:
    from .server import Settings, serve

    root = store_root(args)
    if current_generation(root) is None:
        raise StoreError(f"no graph at {root}: run `cmq-graph build` first")
    settings = Settings(root=root, timeout=args.timeout, max_rows=args.max_rows,
                        workers=args.workers, max_request=args.max_request,
                        http_processes=args.http_processes)
    try:
        serve(settings, args.host, args.port)
    except OSError as exc:  # the address is in use or not ours
        raise StoreError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    return 0


def add_parser(subs: argparse._SubParsersAction) -> None:
    p = subs.add_parser(
        "serve",
        help="serve the graph: read-only SPARQL endpoint (/sparql), query page (/query)",
        description=(
            "Serve the store as a read-only SPARQL 1.1 Protocol endpoint at /sparql with a query "
            "page at /query. Each query runs in a worker process, killed at the time limit; "
            "answers over the row limit are cut and carry the header X-CMQ-Truncated. "
            "A new build is picked up without restart. Prints the addresses once listening."
        ),
    )
    add_store_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per query (default 30)")
    p.add_argument("--max-rows", type=int, default=100_000,
                   help="rows or triples per answer before it is cut (default 100000)")
    p.add_argument("--max-request", type=int, default=1024 * 1024,
                   help="bytes of a request body or query string (default 1 MiB)")
    p.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2),
                   help="query worker processes (default: one per core, at least 2)")
    p.add_argument("--http-processes", type=int, default=1,
                   help="processes reading HTTP, each with its own workers (default 1)")
    p.set_defaults(func=_serve)

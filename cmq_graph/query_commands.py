"""``cmq-graph queries`` (the catalogue) and ``cmq-graph query NAME|FILE.rq|-`` (run one)."""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

from . import catalog, results
from .commands import add_store_option, store_root
from .errors import CmqError, QueryError
from .namespaces import sparql_prefixes
from .store import EmbeddedStore, GraphStore, checked_timeout


def open_remote(url: str, *, timeout: float | None = None) -> GraphStore:
    """The remote backend (``cmq_graph.remote``), imported only when asked for."""
    try:
        remote = importlib.import_module("cmq_graph.remote")
    except ModuleNotFoundError as exc:
        if exc.name != "cmq_graph.remote":
            raise
        raise CmqError("remote endpoints are not available in this version (no cmq_graph.remote)") from exc
    if timeout is None:
        return remote.RemoteStore(url)
    return remote.RemoteStore(url, timeout=timeout)


def open_for(args: argparse.Namespace) -> GraphStore:
    if getattr(args, "endpoint", None):
        return open_remote(args.endpoint, timeout=args.timeout)
    return EmbeddedStore.open(store_root(args), in_memory=False, prestart=True)


def parse_params(pairs: list[str] | None) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise QueryError(f"--param '{pair}': expected name=value")
        name = name.strip().lstrip("?$")
        if name in values:
            raise QueryError(f"--param {name} is given twice")
        values[name] = value
    return values


def _read_query(spec: str, queries: Path | None = None) -> catalog.CatalogQuery:
    if spec == "-":
        return catalog.parse(sys.stdin.read(), "<stdin>")
    return catalog.resolve(spec, queries)


def add_queries_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--queries",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="query catalogue folder (default: $CMQ_GRAPH_QUERIES or the shipped catalogue)",
    )


def _query(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 0:
        raise QueryError("--limit must be ≥ 0")
    if args.timeout is not None:
        checked_timeout(args.timeout)  # 0, negative or NaN: refused before anything runs
    query = _read_query(args.query, args.queries)
    params = parse_params(args.param)
    fmt = args.format or ("ttl" if query.form in {"construct", "describe"} else "table")
    if fmt not in results.FORMATS:
        raise QueryError(f"unknown format '{fmt}'")
    store = open_for(args)
    try:
        # One row more than asked for, to say whether there are more; the engine stops there.
        limit = None if args.limit is None else args.limit + 1
        result = catalog.run(store, query, params, timeout=args.timeout, limit=limit)
        shown, more = result, False
        if args.limit is not None and result.kind == "select" and len(result.rows) > args.limit:
            shown, more = replace(result, rows=result.rows[: args.limit]), True
            if fmt != "table":
                print(f"cmq-graph: first {args.limit} rows (there are more)", file=sys.stderr)
        width = None if args.wide else 60
        text = results.render(shown, fmt, store, width=width, timeout=args.timeout, more=more)
    finally:
        store.close()
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _queries(args: argparse.Namespace) -> int:
    queries = catalog.catalogue(args.queries)
    if args.check:
        bad = 0
        for q in queries.values():
            for problem in catalog.check(q):
                print(f"{q.name}: {problem}")
                bad += 1
        if bad:
            raise QueryError(f"{bad} problem(s) in the catalogue")
        print(f"OK: {len(queries)} queries")
        return 0
    if args.name:
        q = catalog.resolve(args.name, args.queries)
        if args.text:
            sys.stdout.write(sparql_prefixes() + q.text)
        else:
            print(describe(q))
        return 0
    for q in queries.values():
        params = " ".join(p.signature() for p in q.params)
        print(f"{q.name}\n    {q.title}" + (f"\n    {q.title_en}" if q.title_en else ""))
        if params:
            print(f"    params: {params}")
    return 0


def describe(q: catalog.CatalogQuery) -> str:
    """The documentation of one query, as ``cmq-graph queries NAME`` prints it."""
    wrap = textwrap.TextWrapper(width=100, initial_indent="  ", subsequent_indent="  ")
    lines = [f"{q.name} ({q.form.upper()}, {q.where})", f"  {q.title_fr}"]
    if q.title_en:
        lines.append(f"  {q.title_en}")
    for text in (q.description_fr, q.description):
        if text:
            lines += ["", wrap.fill(text)]
    if q.params:
        lines += ["", "  parameters:"]
        for p in q.params:
            lines.append(f"    {p.signature()}" + (f" — {p.doc}" if p.doc else ""))
    if q.returns:
        lines += ["", wrap.fill("returns: " + q.returns)]
    return "\n".join(lines)


def add_parser(subs: argparse._SubParsersAction) -> None:
    p = subs.add_parser(
        "queries",
        help="list the query catalogue (queries/*.rq)",
        description="List the catalogue: name, title and parameters of each query.",
    )
    p.add_argument("name", nargs="?", help="show one query's documentation")
    p.add_argument("--check", action="store_true", help="check headers, syntax and parameters")
    p.add_argument(
        "--text", action="store_true", help="print the query with PREFIX lines, to paste into another tool"
    )
    add_queries_option(p)
    p.set_defaults(func=_queries)

    p = subs.add_parser(
        "query",
        help="run a catalogue query, a .rq file or a query on stdin",
        description="Run a SPARQL query on the embedded store or a remote endpoint. "
        "Parameters are bound as RDF terms, never pasted into the query text.",
    )
    p.add_argument("query", metavar="NAME|FILE.rq|-", help="catalogue name, file, or - for stdin")
    p.add_argument(
        "-p",
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="parameter value (repeatable): --param as_of=2024-01-01 --param campus=id:campus/x",
    )
    p.add_argument(
        "-f",
        "--format",
        choices=results.FORMATS,
        help="table|csv|tsv|json|md for SELECT/ASK (default table); ttl|nt|jsonld for CONSTRUCT",
    )
    p.add_argument(
        "--limit", type=int, help="at most this many rows (sent with the query: the engine stops there)"
    )
    p.add_argument(
        "--timeout",
        type=float,
        help="stop the query after this many seconds (> 0; default 60 on the embedded store)",
    )
    p.add_argument("--wide", action="store_true", help="do not shorten long cells in a table")
    add_store_option(p)
    p.add_argument("--endpoint", metavar="URL", help="query this SPARQL endpoint instead of the store")
    add_queries_option(p)
    p.set_defaults(func=_query)

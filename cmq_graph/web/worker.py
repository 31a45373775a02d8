"""A query worker process: runs one SPARQL query at a time on the live generation of the store.

Queries run here, not in the server, so that a query past its time limit is stopped by killing
its process (Oxigraph cannot interrupt a query). The worker reads the store's ``current`` link
before each query and reopens the store when a build has made a new generation live. Answers
are serialised by Oxigraph; a line-based form (TSV, N-Triples) is written first so that rows can
be counted and cut at the limit without reading any term in Python.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

RESULT_FORMATS = {name: getattr(ox.QueryResultsFormat, name) for name in ("JSON", "XML", "CSV", "TSV")}
GRAPH_FORMATS = {name: getattr(ox.RdfFormat, name) for name in ("TURTLE", "N_TRIPLES", "JSON_LD", "RDF_XML")}


@dataclass
class Job:
    """One query to run, with what the client accepts for each form of answer."""

    query: str
    results_format: str | None = "JSON"  # a RESULT_FORMATS key, None if the client accepts none
    graph_format: str | None = "TURTLE"  # a GRAPH_FORMATS key
    default_graphs: list[str] | None = None  # protocol dataset (default-graph-uri)
    named_graphs: list[str] | None = None  # named-graph-uri
    max_rows: int = 100_000
    max_bytes: int = 64 * 1024 * 1024
    substitutions: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal] = field(default_factory=dict)
    union: bool = True  # default graph = union of the named graphs (False when the query has FROM)
    lines_only: bool = False  # answer in TSV / N-Triples whatever the formats (for the server's own reads)


@dataclass
class Answer:
    """What a worker sends back: a body in ``media_type`` or an error with its HTTP status."""

    status: int
    body: bytes = b""
    media_type: str = ""
    kind: str = ""  # select, ask, graph
    truncated: bool = False
    error: str = ""
    generation: str = ""


class _Full(Exception):
    pass


class CappedLines:
    """A binary sink that keeps whole lines up to ``max_lines`` and ``max_bytes``, then refuses."""

    def __init__(self, max_lines: int, max_bytes: int):
        self.max_lines, self.max_bytes = max_lines, max_bytes
        self.parts: list[bytes] = []
        self.lines = self.size = 0
        self.full = False

    def write(self, chunk: bytes) -> int:
        if self.full:
            raise OSError("result limit reached")
        chunk = bytes(chunk)
        lines = chunk.count(b"\n")
        if self.lines + lines <= self.max_lines and self.size + len(chunk) <= self.max_bytes:
            self.parts.append(chunk)
            self.lines += lines
            self.size += len(chunk)
            return len(chunk)
        # Keep the whole lines that fit, then stop the serialiser (and the query's iteration).
        end = 0
        while self.lines < self.max_lines:
            nl = chunk.find(b"\n", end)
            if nl < 0 or self.size + nl + 1 > self.max_bytes:
                break
            end = nl + 1
            self.lines += 1
        self.parts.append(chunk[:end])
        self.size += end
        self.full = True
        raise OSError("result limit reached")

    def flush(self) -> None:
        pass

    def data(self) -> bytes:
        data = b"".join(self.parts)
        if self.full and not data.endswith(b"\n"):
            data = data[: data.rfind(b"\n") + 1]
        return data


def run(store: ox.Store, job: Job, prefixes: dict[str, str], union_materialised: bool = False) -> Answer:
    """Run ``job`` on ``store`` (``prefixes`` predeclared) and serialise its answer.

    The default graph is the union of the named graphs, as in the embedded store: read from the
    default graph where the build wrote it there (each triple once), else Oxigraph's union.
    """
    kwargs: dict[str, object] = {"prefixes": prefixes}
    if job.default_graphs is not None or job.named_graphs is not None:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs or []]
        if job.named_graphs is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    elif job.union and not union_materialised:
        kwargs["use_default_graph_as_union"] = True
    if job.substitutions:
        kwargs["substitutions"] = {ox.Variable(k): v for k, v in job.substitutions.items()}
    try:
        answer = store.query(job.query, **kwargs)
    except SyntaxError as exc:
        return Answer(400, error=f"SPARQL syntax error: {exc}")
    except (ValueError, RuntimeError) as exc:
        return Answer(400, error=f"bad query: {exc}")
    try:
        if isinstance(answer, ox.QueryBoolean):
            return _boolean(answer, job)
        if isinstance(answer, ox.QuerySolutions):
            return _solutions(answer, job)
        return _triples(answer, job, prefixes)
    except OSError as exc:
        return Answer(500, error=f"query failed: {exc}")
    except (RuntimeError, ValueError) as exc:
        return Answer(400, error=f"query failed: {exc}")


def _boolean(answer: ox.QueryBoolean, job: Job) -> Answer:
    name = "TSV" if job.lines_only else job.results_format
    if name is None:
        return Answer(406, error="an ASK answer is served as SPARQL JSON, XML, CSV or TSV")
    fmt = RESULT_FORMATS[name]
    return Answer(200, answer.serialize(format=fmt), fmt.media_type, "ask")


def _solutions(answer: ox.QuerySolutions, job: Job) -> Answer:
    name = "TSV" if job.lines_only else job.results_format
    if name is None:
        return Answer(406, error="a SELECT answer is served as SPARQL JSON, XML, CSV or TSV")
    sink = CappedLines(job.max_rows + 1, job.max_bytes)  # +1: the header line
    try:
        answer.serialize(sink, format=ox.QueryResultsFormat.TSV)
    except OSError:
        if not sink.full:
            raise
    tsv = sink.data()
    fmt = RESULT_FORMATS[name]
    if name == "TSV":
        return Answer(200, tsv, fmt.media_type, "select", sink.full)
    body = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV).serialize(format=fmt)
    return Answer(200, body, fmt.media_type, "select", sink.full)


def _triples(answer: ox.QueryTriples, job: Job, prefixes: dict[str, str]) -> Answer:
    name = "N_TRIPLES" if job.lines_only else job.graph_format
    if name is None:
        return Answer(406, error="a graph is served as Turtle, N-Triples, JSON-LD or RDF/XML")
    sink = CappedLines(job.max_rows, job.max_bytes)
    try:
        answer.serialize(sink, format=ox.RdfFormat.N_TRIPLES)
    except OSError:
        if not sink.full:
            raise
    nt = sink.data()
    fmt = GRAPH_FORMATS[name]
    if name == "N_TRIPLES":
        return Answer(200, nt, fmt.media_type, "graph", sink.full)
    body = ox.serialize(ox.parse(nt, format=ox.RdfFormat.N_TRIPLES), format=fmt, prefixes=prefixes)
    return Answer(200, body, fmt.media_type, "graph", sink.full)


def live_generation(root: Path) -> str | None:
    """The generation folder the store's ``current`` link points to, or None."""
    try:
        target = os.readlink(root / "current")
    except OSError:
        return None
    return os.path.realpath(os.path.join(root, target))


def has_union(store: ox.Store) -> bool:
    """Whether the build wrote the union of the named graphs into the default graph."""
    return next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None


class _Live:
    """The generation a worker has open, re-opened when ``current`` moves. Where the store offers
    leases (``cmq_graph.store.lease_current``), the generation is leased while open, so that a
    build does not delete it under a running query."""

    def __init__(self, root: Path):
        self.root = root
        self.opened: str | None = None
        self.store: ox.Store | None = None
        self.union_materialised = False
        self._lease: object | None = None
        try:
            from .. import store as store_module

            self._lease_current = getattr(store_module, "lease_current", None)
        except ImportError:
            self._lease_current = None

    def get(self) -> ox.Store | None:
        gen = live_generation(self.root)
        if gen is None:
            return None
        if gen != self.opened:
            self.store, self.opened = None, None
            lease = self._lease_current(self.root) if self._lease_current else None
            if lease is not None:
                gen = os.path.realpath(lease.generation)  # type: ignore[attr-defined]
            self.store = ox.Store.read_only(gen)
            self.opened = gen
            self.union_materialised = has_union(self.store)
            old, self._lease = self._lease, lease
            if old is not None:
                old.release()  # type: ignore[attr-defined]
        return self.store


def main(conn: Connection, root: str, prefixes: dict[str, str]) -> None:
    """The worker's loop: a Job in, an Answer out, until the pipe closes.

    Forked from a server that has imported this module (and pyoxigraph, cmq_graph.store), so a
    replacement for a killed worker is ready in milliseconds.
    """
    live = _Live(Path(root))
    while True:
        try:
            job: Job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            store = live.get()
            if store is None:
                reply = Answer(503, error=f"no graph at {root}: run `cmq-graph build` first")
            else:
                reply = run(store, job, prefixes, live.union_materialised)
        except OSError as exc:
            live.opened = None
            reply = Answer(503, error=f"cannot read the store: {exc}")
        except Exception as exc:  # a bug must answer 500, not leave the server without a worker
            live.opened = None
            if type(exc).__name__ == "StoreError":  # no live generation to lease
                reply = Answer(503, error=str(exc))
            else:
                reply = Answer(500, error=f"internal error: {type(exc).__name__}: {exc}")
        reply.generation = live.opened or ""
        conn.send(reply)

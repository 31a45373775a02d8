"""The graph store: one small interface, the embedded Oxigraph implementation.

Every reader of the graph (catalogue, maps, notebooks, server) goes through :class:`GraphStore`,
so the same code runs against the embedded store or a remote SPARQL endpoint. Results come back
as rdflib terms, the common currency of both backends.

On disk the store is a folder holding generations; ``current`` is a symlink to the live one. A
build writes a new generation beside it and swaps the symlink atomically, so a failed build
leaves the previous graph untouched and readable, and readers never see a half-written store.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from .errors import QueryError, StoreError
from .namespaces import PREFIXES

Term = URIRef | Literal | BNode


@dataclass
class QueryResult:
    """The answer to a SPARQL query, whatever its form.

    ``kind`` is ``select`` (``variables`` and ``rows``: tuples aligned with the variables,
    ``None`` for unbound), ``ask`` (``boolean``) or ``graph`` (``graph``, for CONSTRUCT/DESCRIBE).
    """

    kind: str
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    graph: Graph | None = None

    def dicts(self) -> list[dict[str, Term | None]]:
        return [dict(zip(self.variables, row, strict=True)) for row in self.rows]


class GraphStore(Protocol):
    """What every backend offers. Queries see the union of all named graphs as default graph."""

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Node] | None = None,
        *,
        timeout: float | None = None,
    ) -> QueryResult: ...

    def close(self) -> None: ...


# -- term conversion -------------------------------------------------------------------------

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> Term | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        dt = term.datatype.value
        return Literal(term.value, datatype=None if dt == _XSD_STRING else URIRef(dt))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise TypeError(f"unsupported term {term!r}")


def to_oxigraph(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None and str(term.datatype) != _RDF_LANGSTRING:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise TypeError(f"cannot bind {term!r}: not an RDF term")


# -- the embedded store ----------------------------------------------------------------------


def _generations(root: Path) -> Path:
    return root / "generations"


def current_generation(root: Path) -> Path | None:
    link = root / "current"
    if not link.is_symlink() and not link.exists():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


class EmbeddedStore:
    """Oxigraph on disk (read-only by default) or in memory.

    ``in_memory=True`` on an on-disk store copies it into RAM first: joins run several times
    faster there than on RocksDB, and the CMQ graph fits easily.
    """

    def __init__(self, store: ox.Store, location: Path | None = None):
        self._store = store
        self.location = location

    @classmethod
    def open(cls, root: Path, *, in_memory: bool = False) -> EmbeddedStore:
        gen = current_generation(root)
        if gen is None:
            raise StoreError(f"no graph at {root}: run `cmq-graph build` first")
        try:
            disk = ox.Store.read_only(str(gen))
        except OSError as exc:
            raise StoreError(f"cannot open the store at {gen}: {exc}") from exc
        if not in_memory:
            return cls(disk, gen)
        mem = ox.Store()
        mem.bulk_extend(disk.quads_for_pattern(None, None, None, None))
        del disk
        return cls(mem, gen)

    @classmethod
    def from_quads(cls, quads: Iterable[ox.Quad]) -> EmbeddedStore:
        mem = ox.Store()
        mem.bulk_extend(quads)
        return cls(mem)

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store, for hot paths that want its own terms."""
        return self._store

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Node] | None = None,
        *,
        timeout: float | None = None,
    ) -> QueryResult:
        """Run ``sparql``; with ``timeout``, stop waiting at the deadline.

        Oxigraph cannot be interrupted and computes ORDER BY or GROUP BY before the first row,
        so a query with a timeout runs in a worker thread (Oxigraph releases the GIL) that the
        caller stops waiting for: the caller gets its QueryError on time, the worker drops its
        result at the next row, or when Oxigraph returns.
        """
        if timeout is None:
            return self._query(sparql, bindings, None)
        cancelled = threading.Event()
        outcome: dict[str, object] = {}

        def work() -> None:
            try:
                outcome["result"] = self._query(sparql, bindings, cancelled)
            except BaseException as exc:
                # Without its traceback: the frames hold Oxigraph's result iterator, which
                # must be dropped on the thread that made it.
                outcome["error"] = exc.with_traceback(None)

        worker = threading.Thread(target=work, name="cmq-graph-query", daemon=True)
        worker.start()
        worker.join(max(timeout, 0.0))
        if worker.is_alive():
            cancelled.set()
            raise QueryError(f"query timed out after {timeout} s")
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["result"]  # type: ignore[return-value]

    def _query(
        self, sparql: str, bindings: Mapping[str, Node] | None, cancelled: threading.Event | None
    ) -> QueryResult:
        subs = {ox.Variable(k): to_oxigraph(v) for k, v in (bindings or {}).items()}
        if subs:
            sparql = _with_values(sparql, bindings)  # type: ignore[arg-type]
        try:
            answer = self._store.query(
                sparql, use_default_graph_as_union=True, substitutions=subs or None, prefixes=PREFIXES
            )
            if isinstance(answer, ox.QueryBoolean):
                return QueryResult("ask", boolean=bool(answer))
            # One rdflib term per distinct Oxigraph term of the answer: building rdflib terms
            # (literals parse their value) is most of a large answer's time, and cells repeat.
            converted: dict[object, Term | None] = {None: None}

            def term(value: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> Term | None:
                found = converted.get(value, converted)
                if found is converted:
                    found = converted[value] = to_rdflib(value)
                return found  # type: ignore[return-value]

            if isinstance(answer, ox.QuerySolutions):
                variables = [v.value for v in answer.variables]
                rows = []
                for solution in answer:
                    if cancelled is not None and cancelled.is_set():
                        raise QueryError("query cancelled")
                    rows.append(tuple(term(solution[v]) for v in variables))
                return QueryResult("select", variables=variables, rows=rows)
            graph = Graph()
            for prefix, ns in PREFIXES.items():
                graph.bind(prefix, ns)
            for triple in answer:
                if cancelled is not None and cancelled.is_set():
                    raise QueryError("query cancelled")
                graph.add((term(triple.subject), term(triple.predicate), term(triple.object)))  # type: ignore[arg-type]
            return QueryResult("graph", graph=graph)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        except (OSError, RuntimeError) as exc:
            raise QueryError(f"query failed: {exc}") from exc

    def quads(self) -> Iterable[ox.Quad]:
        return self._store.quads_for_pattern(None, None, None, None)

    def __len__(self) -> int:
        return len(self._store)

    def close(self) -> None:
        self._store = None  # type: ignore[assignment]

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _with_values(sparql: str, bindings: Mapping[str, Node]) -> str:
    """``sparql`` with the bindings also written as a ``VALUES`` block (as a remote endpoint gets them).

    Oxigraph's substitutions bind the values when the plan runs, after the join order is chosen:
    a query anchored on a bound campus is planned as if the campus were unknown (campus-schools:
    400 ms at 1M triples, 3 ms with the VALUES block). The substitutions stay, so the meaning
    and the projection check are unchanged; where a block cannot be placed (a blank node, the
    short ``CONSTRUCT WHERE``), the substitutions alone bind.
    """
    from .remote import bind_values  # remote imports this module

    try:
        return bind_values(sparql, bindings)
    except QueryError:
        return sparql


# Quads handed to one bulk load: RocksDB's loader buffers a whole batch (with its index
# permutations) in memory, so a stream is loaded in slices of this size.
LOAD_BATCH = 200_000


def batches(items: Iterable[ox.Quad], size: int) -> Iterator[list[ox.Quad]]:
    """``items`` in lists of ``size`` (the last one shorter): ``itertools.batched`` before 3.12."""
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def write_generation(root: Path, quads: Iterable[ox.Quad], *, batch: int = LOAD_BATCH) -> Path:
    """Load ``quads`` (any iterable, consumed once, in slices of ``batch``) into a new generation
    folder under ``root`` and return it (not yet live)."""
    gens = _generations(root)
    gens.mkdir(parents=True, exist_ok=True)
    path = gens / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    try:
        store = ox.Store(str(path))
        for chunk in batches(quads, batch):
            store.bulk_extend(chunk)
        store.flush()
        store.optimize()
        del store
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return path


def activate(root: Path, generation: Path) -> None:
    """Make ``generation`` live with an atomic symlink swap, then drop older generations."""
    link = root / "current"
    tmp = root / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(generation, root), tmp)
    os.replace(tmp, link)
    for old in _generations(root).iterdir():
        if old.resolve() != generation.resolve():
            shutil.rmtree(old, ignore_errors=True)


def discard(generation: Path) -> None:
    shutil.rmtree(generation, ignore_errors=True)

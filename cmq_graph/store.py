"""The graph store: one small interface, the embedded Oxigraph implementation.

Every reader of the graph (catalogue, maps, notebooks, server) goes through :class:`GraphStore`,
so the same code runs against the embedded store or a remote SPARQL endpoint. Results come back
as rdflib terms, the common currency of both backends.

On disk the store is a folder holding generations; ``current`` is a symlink to the live one. A
build writes a new generation beside it and swaps the symlink atomically, so a failed build
leaves the previous graph untouched and readable, and readers never see a half-written store.

Nothing is lost when several processes share a store:

- builds exclude each other with an exclusive ``flock`` on ``ROOT/.build.lock``; a second build
  waits for the first (saying so), and gives up with a :class:`StoreError` (exit 4) after
  ``wait`` seconds (:func:`build_lock`);
- a reader holds a shared ``flock`` on ``generations/NAME.lease`` while it reads the generation
  NAME (its *lease*); old generations are deleted only by whoever can take that lock exclusively
  (:func:`collect`, run by each build), so a swap never removes a generation a reader still uses.
  A generation is renamed aside before it is deleted, so a reader never opens a half-deleted one.

Set semantics: each source's statements live in its named graph, and the build also writes
their union, each triple once, into the store's default graph (:func:`materialise_union`).
Queries read that default graph, so ``COUNT(*)`` over ``?c a cmq:Campus`` counts a campus once
however many sources state it (Oxigraph 0.5's union-as-default-graph returns one solution per
graph holding the triple). A generation written before this layout has an empty default graph
and is read with the union, as before.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from .errors import QueryError, StoreError
from .namespaces import PREFIXES
from .query_worker import DEFAULT_TIMEOUT, QueryWorker, WorkerError

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
    """What every backend offers. Queries see the union of all named graphs as default graph,
    as a set: a triple stated by several sources is one triple there (``GRAPH ?g`` still reads
    each source's graph)."""

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


def _lease_path(generation: Path) -> Path:
    return generation.parent / f"{generation.name}.lease"


class Lease:
    """A shared lock on one generation: while it is held, no build deletes the generation."""

    def __init__(self, generation: Path, fd: int | None):
        self.generation = generation
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __del__(self) -> None:
        self.release()


def _open_lease_file(path: Path) -> int | None:
    """A descriptor on the lease file (created if need be); None if the store is not writable."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EROFS, errno.EPERM):
            raise
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def lease_current(root: Path) -> Lease:
    """A lease on the live generation: resolve ``current``, lock its lease shared, check it is
    still there (a build may have swapped and deleted it in between), else try again."""
    for _ in range(100):
        gen = current_generation(root)
        if gen is None:
            raise StoreError(f"no graph at {root}: run `cmq-graph build` first")
        try:
            fd = _open_lease_file(_lease_path(gen))
        except OSError as exc:
            raise StoreError(f"cannot open the store at {gen}: {exc}") from exc
        if fd is None:  # a read-only store: nobody can delete the generation under us
            return Lease(gen, None)
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a build renames a dead generation aside
        if gen.is_dir():
            return Lease(gen, fd)
        os.close(fd)
    raise StoreError(f"cannot open the store at {root}: its generations keep changing")


def checked_timeout(timeout: float | None) -> float:
    """``timeout`` in seconds (``None``: :data:`DEFAULT_TIMEOUT`); 0, negative or NaN is refused."""
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise QueryError(f"the timeout must be a positive number of seconds, not {timeout!r}")
    return float(timeout)


def refuse_service(sparql: str) -> None:
    """The embedded store makes no outbound request: a query with ``SERVICE`` is refused."""
    from .remote import tokens  # remote imports this module

    if any(t.keyword() == "SERVICE" for t in tokens(sparql)):
        raise QueryError("SERVICE is not allowed in a query on the embedded store (no outbound requests)")


class EmbeddedStore:
    """Oxigraph on disk (read-only by default) or in memory.

    ``in_memory=True`` on an on-disk store reads it from RAM: joins run several times faster
    there than on RocksDB, and the CMQ graph fits easily.

    A store opened from disk answers its queries in a :class:`~cmq_graph.query_worker.QueryWorker`
    process, so that a timed-out or interrupted query is stopped (the worker is killed), with a
    default timeout of :data:`DEFAULT_TIMEOUT` seconds. A store made by :meth:`from_quads`
    (tests, ``queries --check``) answers in this process: its timeout stops the wait, not the
    query.
    """

    def __init__(
        self,
        store: ox.Store,
        location: Path | None = None,
        lease: Lease | None = None,
        *,
        in_memory: bool = False,
    ):
        self._store = store
        self.location = location
        self._lease = lease
        self._in_memory = in_memory and location is not None
        self._memory: ox.Store | None = None
        # A materialised union (see the module docstring) is read as the default graph.
        self.union_materialised = has_union(store)
        self._worker: QueryWorker | None = None
        if location is not None:
            self._worker = QueryWorker(
                location, in_memory=in_memory, union=not self.union_materialised, prefixes=PREFIXES
            )

    @classmethod
    def open(cls, root: Path, *, in_memory: bool = False, prestart: bool = False) -> EmbeddedStore:
        """The live generation of ``root``, leased until :meth:`close`, so that the queries'
        worker (see the class docstring) can be restarted on the same graph. ``prestart``
        starts the worker now, for a caller about to query (it opens while the caller works)."""
        lease = lease_current(root)
        gen = lease.generation
        try:
            disk = ox.Store.read_only(str(gen))
        except OSError as exc:
            lease.release()
            raise StoreError(f"cannot open the store at {gen}: {exc}") from exc
        store = cls(disk, gen, lease, in_memory=in_memory)
        if prestart and store._worker is not None:
            store._worker.start()
        return store

    @classmethod
    def from_quads(cls, quads: Iterable[ox.Quad]) -> EmbeddedStore:
        """An in-memory store of ``quads`` with their union materialised, as a build makes it
        (triples given in the default graph are part of that union)."""
        mem = ox.Store()
        mem.bulk_extend(quads)
        materialise_union(mem)
        return cls(mem)

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store, for hot paths that want its own terms (in memory if
        the store was opened so: copied at the first use)."""
        if self._in_memory:
            if self._memory is None:
                self._memory = ox.Store()
                self._memory.bulk_extend(self._store.quads_for_pattern(None, None, None, None))
            return self._memory
        return self._store

    def stale(self, root: Path) -> bool:
        """Whether a build made another generation live since this store was opened (a
        long-lived reader, such as a server, reopens then: this one keeps its leased graph)."""
        return self.location is not None and current_generation(root) != self.location

    @property
    def worker_pid(self) -> int | None:
        """The process id of the queries' worker, if one runs."""
        return self._worker.pid if self._worker is not None else None

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Node] | None = None,
        *,
        timeout: float | None = None,
    ) -> QueryResult:
        """Run ``sparql`` with ``bindings``; give up after ``timeout`` seconds (default
        :data:`DEFAULT_TIMEOUT`), and stop the query then, or on Ctrl-C, where it runs in a worker.
        """
        timeout = checked_timeout(timeout)
        refuse_service(sparql)
        if self._worker is not None:
            return self._query_worker(sparql, bindings, timeout)
        # In this process (see the class docstring): Oxigraph releases the GIL in a thread
        # that the caller stops waiting for; the thread drops its result at the next row.
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
        worker.join(timeout)
        if worker.is_alive():
            cancelled.set()
            raise QueryError(f"query timed out after {timeout:g} s")
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["result"]  # type: ignore[return-value]

    def _query_worker(self, sparql: str, bindings: Mapping[str, Node] | None, timeout: float) -> QueryResult:
        assert self._worker is not None
        subs = {ox.Variable(k): to_oxigraph(v) for k, v in (bindings or {}).items()}
        if subs:
            sparql = _with_values(sparql, bindings)  # type: ignore[arg-type]
        try:
            kind, payload = self._worker.run((sparql, subs), timeout)
        except TimeoutError:
            raise QueryError(f"query timed out after {timeout:g} s (stopped)") from None
        except WorkerError as exc:
            raise QueryError(str(exc)) from None
        if kind == "syntax":
            raise QueryError(f"SPARQL syntax error: {payload}")
        if kind == "failed":
            raise QueryError(f"query failed: {payload}")
        if kind == "ask":
            return QueryResult("ask", boolean=payload)
        if kind == "select":
            return _select_result(ox.parse_query_results(payload, format=ox.QueryResultsFormat.TSV))
        return _graph_result(ox.parse(payload, format=ox.RdfFormat.N_TRIPLES))

    def _query(
        self, sparql: str, bindings: Mapping[str, Node] | None, cancelled: threading.Event | None
    ) -> QueryResult:
        subs = {ox.Variable(k): to_oxigraph(v) for k, v in (bindings or {}).items()}
        if subs:
            sparql = _with_values(sparql, bindings)  # type: ignore[arg-type]
        try:
            answer = self._store.query(
                sparql,
                use_default_graph_as_union=not self.union_materialised,
                substitutions=subs or None,
                prefixes=PREFIXES,
            )
            if isinstance(answer, ox.QueryBoolean):
                return QueryResult("ask", boolean=bool(answer))
            if isinstance(answer, ox.QuerySolutions):
                return _select_result(answer, cancelled)
            return _graph_result(answer, cancelled)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        except (OSError, RuntimeError) as exc:
            raise QueryError(f"query failed: {exc}") from exc

    def __len__(self) -> int:
        return len(self._store)

    def quads(self) -> Iterable[ox.Quad]:
        """Every statement in its source's named graph (not the materialised union)."""
        if not self.union_materialised:
            return self._store.quads_for_pattern(None, None, None, None)
        return (q for q in self._store.quads_for_pattern(None, None, None, None) if q.graph_name != _DEFAULT)

    def triples(self) -> Iterable[ox.Triple]:
        """The union of the named graphs, each triple once."""
        if self.union_materialised:
            return (q.triple for q in self._store.quads_for_pattern(None, None, None, _DEFAULT))
        rows = self._store.query("SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
        return (ox.Triple(r[0], r[1], r[2]) for r in rows)  # type: ignore[arg-type]

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self._store = None  # type: ignore[assignment]
        self._memory = None
        if self._lease is not None:
            self._lease.release()
            self._lease = None

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _converter() -> Callable[[ox.NamedNode | ox.BlankNode | ox.Literal | None], Term | None]:
    """One rdflib term per distinct Oxigraph term of an answer: building rdflib terms (literals
    parse their value) is most of a large answer's time, and cells repeat."""
    converted: dict[object, Term | None] = {None: None}

    def term(value: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> Term | None:
        found = converted.get(value, converted)
        if found is converted:
            found = converted[value] = to_rdflib(value)
        return found  # type: ignore[return-value]

    return term


def _select_result(answer: ox.QuerySolutions, cancelled: threading.Event | None = None) -> QueryResult:
    term = _converter()
    variables = [v.value for v in answer.variables]
    rows = []
    for solution in answer:
        if cancelled is not None and cancelled.is_set():
            raise QueryError("query cancelled")
        rows.append(tuple(term(solution[v]) for v in variables))
    return QueryResult("select", variables=variables, rows=rows)


def _graph_result(triples: Iterable[ox.Triple], cancelled: threading.Event | None = None) -> QueryResult:
    term = _converter()
    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    for triple in triples:
        if cancelled is not None and cancelled.is_set():
            raise QueryError("query cancelled")
        graph.add((term(triple.subject), term(triple.predicate), term(triple.object)))  # type: ignore[arg-type]
    return QueryResult("graph", graph=graph)


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


_DEFAULT = ox.DefaultGraph()


def has_union(store: ox.Store) -> bool:
    """Whether ``store``'s default graph holds the materialised union (it is empty otherwise)."""
    return next(iter(store.quads_for_pattern(None, None, None, _DEFAULT)), None) is not None


def materialise_union(store: ox.Store, *, batch: int = 200_000) -> int:
    """Write the union of ``store``'s named graphs into its default graph (a set: each triple
    once) and return the number of named-graph quads read. The named graphs stay as they are,
    for provenance."""
    named = 0
    chunk: list[ox.Quad] = []
    for quad in store.quads_for_pattern(None, None, None, None):
        if quad.graph_name == _DEFAULT:
            continue
        named += 1
        chunk.append(ox.Quad(quad.subject, quad.predicate, quad.object, _DEFAULT))
        if len(chunk) >= batch:
            store.bulk_extend(chunk)
            chunk = []
    if chunk:
        store.bulk_extend(chunk)
    return named


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
    folder under ``root`` and return it (not yet live). Call it under :func:`build_lock`."""
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
        _lease_path(path).touch()  # readers of a read-only copy of the store find it there
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return path


BUILD_WAIT = 600.0  # seconds a build waits for another one before giving up


@contextlib.contextmanager
def build_lock(
    root: Path, *, wait: float = BUILD_WAIT, say: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the store's writer lock: one build at a time per store.

    A second build waits (saying which process holds the lock) and raises :class:`StoreError`
    (exit 4) if the lock is still held after ``wait`` seconds. The kernel drops the lock when
    its holder dies, even by ``kill -9``: a crashed build never leaves the store locked.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / ".build.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        if root.exists() and not root.is_dir():
            raise StoreError(f"Not a directory: {root}: a store is a folder") from exc
        raise StoreError(f"cannot lock the store at {root}: {exc.strerror or exc}") from exc
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "another process"
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"another build (pid {holder}) still holds {root / '.build.lock'} after "
                        f"{wait:g} s: try again when it is done"
                    ) from None
                if not told and say is not None:
                    say(
                        f"· another build (pid {holder}) is writing {root}: "
                        f"waiting for it (at most {wait:g} s)…"
                    )
                    told = True
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def activate(root: Path, generation: Path) -> None:
    """Make ``generation`` live with an atomic symlink swap, then drop the unused generations."""
    link = root / "current"
    tmp = root / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(generation, root), tmp)
    os.replace(tmp, link)
    collect(root)


def collect(root: Path) -> list[str]:
    """Delete every generation but the live one that no reader holds, and what killed builds left.

    Call it under :func:`build_lock`. A generation a reader leases stays: a later build deletes
    it once the reader is gone. Returns the names deleted.
    """
    gens = _generations(root)
    if not gens.is_dir():
        return []
    live = current_generation(root)
    for stray in root.glob(".current-*"):
        stray.unlink(missing_ok=True)
    deleted = []
    for entry in sorted(gens.iterdir()):
        if entry.name.startswith(".trash-"):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.suffix == ".lease":
            gen = entry.with_suffix("")
            if not gen.exists() and (fd := _try_exclusive(entry)) is not None:
                entry.unlink(missing_ok=True)
                os.close(fd)
        elif entry.is_dir() and (live is None or entry.resolve() != live):
            fd = _try_exclusive(_lease_path(entry))
            if fd is None:
                continue  # a reader still holds it
            try:
                trash = gens / f".trash-{entry.name}"
                os.replace(entry, trash)
                _lease_path(entry).unlink(missing_ok=True)
            finally:
                os.close(fd)
            shutil.rmtree(trash, ignore_errors=True)
            deleted.append(entry.name)
    return deleted


def _try_exclusive(path: Path) -> int | None:
    """A descriptor holding ``path`` locked exclusively, or None if someone holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def discard(generation: Path) -> None:
    shutil.rmtree(generation, ignore_errors=True)
    _lease_path(generation).unlink(missing_ok=True)

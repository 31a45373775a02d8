"""Upload the built graph to a remote triple store, all or nothing.

**Graph mapping (layout ``graphs``, the default).** Every named graph of the embedded store keeps
its IRI on the remote side: one graph per cited source (``…/id/source/{id}``), plus the meta,
ontology, vocabulary and shapes graphs. This is what makes the catalogue give the same answers on
both backends: provenance queries read ``GRAPH ?source`` and return the graph's name, which must be
the source's IRI on Virtuoso as on Oxigraph. ``--graph IRI`` then names the *publication*: a small
manifest graph at that IRI lists (as ``xsd:anyURI`` literals, so no catalogue pattern can match
them) which graphs the last publish wrote. A later publish replaces those graphs and drops the
ones that vanished (a source removed from ``data/``), without touching anything else the store
holds. Beside them goes ``{graph}/union``, every triple of every graph once: the default graph
queries on the endpoint read (:mod:`cmq_graph.remote`), so that the default graph is a set as
SPARQL defines it, while the named graphs keep provenance. The manifest also records its state
(``publishing`` during the swap, then ``complete``) and each graph's triple count, which readers
check before answering. Layout ``union`` instead merges every statement into the one graph
``--graph`` (for stores shared with other datasets where one graph per dataset is the rule);
provenance by graph is lost.

**No half-written graph.** Nothing is written to a target graph until the new data is complete:

1. every graph is uploaded into a fresh staging graph ``{graph}/staging/{run}/{n}`` (Graph Store
   Protocol POSTs, or SPARQL Update in batches of at most 500 triples: Virtuoso refuses 2,000 with
   SP031), and each staging graph's triple count is checked against the local one;
2. the current target graphs are copied to backup graphs ``{graph}/backup/{run}/{n}``;
3. each staging graph is moved onto its target (``MOVE``, one request per graph), vanished graphs
   are dropped and the manifest rewritten; the final counts are checked again;
4. on any failure in 1-3 the targets already replaced are restored from their backups, and the
   staging and backup graphs are dropped; on success the backups are dropped.

An interrupted upload therefore never touches the targets. Virtuoso does not run a
multi-operation update as one transaction (we measured it), so step 3 first marks the manifest
``publishing``: readers refuse the publication until it says ``complete``, rather than read a mix
of old and new graphs. Triples sharing a blank node always travel in the same request, since a
blank node label only means the same node within one request.

**Durable (Virtuoso).** Virtuoso makes changes durable at its checkpoints; a crash replays its
transaction log, and we measured that the replay loses part of a republished graph. So publish
asks for a checkpoint before writing anything (the current graphs durable: what a failure must
leave) and after the swap or a rollback (:func:`checkpoint`). An account that may not checkpoint
is refused before anything is written, unless ``--no-checkpoint``. ``publish-clean`` drops the
staging and backup graphs a killed publish left (:func:`clean_stale`).

Credentials come from ``CMQ_GRAPH_USER``/``CMQ_GRAPH_PASSWORD`` or a file, never the command line
(they would show in ``ps`` and shell history).
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pyoxigraph as ox
from rdflib import Literal, URIRef

from .errors import CmqError, StoreError
from .remote import (
    DEFAULT_DATASET,
    ENTRY_GRAPH,
    ENTRY_TRIPLES,
    PUBLICATION_STATE,
    PUBLISHED_GRAPH,
    UNION_GRAPH,
    Credentials,
    RemoteStore,
    __version__,
    sparql_term,
)
from .store import EmbeddedStore

Say = Callable[[str], None]

UPDATE_BATCH = 500  # Virtuoso fails INSERT DATA of 2,000 triples (SP031); 500 work
GSP_BATCH = 20_000
DEFAULT_GRAPH = DEFAULT_DATASET
_DCT = "http://purl.org/dc/terms/"
_XSD = "http://www.w3.org/2001/XMLSchema#"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- what to send ------------------------------------------------------------------------------


@dataclass
class Payload:
    """One remote graph to write: its IRI and its (distinct) triples."""

    graph: str
    triples: list[ox.Triple]


def payloads(store: EmbeddedStore, layout: str, target: str) -> list[Payload]:
    """The remote graphs to write, from the embedded store's quads (see the module docstring)."""
    by_graph: dict[str, dict[ox.Triple, None]] = {}
    for quad in store.quads():
        if isinstance(quad.graph_name, ox.DefaultGraph):
            if layout == "graphs":
                raise StoreError("the store has statements outside any named graph: use --layout union")
            name = target
        else:
            name = target if layout == "union" else quad.graph_name.value
        by_graph.setdefault(name, {})[ox.Triple(quad.subject, quad.predicate, quad.object)] = None
    if layout == "graphs" and (target in by_graph or union_graph(target) in by_graph):
        raise StoreError(f"--graph {target} is the name of one of the store's own graphs: choose another")
    found = [Payload(g, list(t)) for g, t in sorted(by_graph.items())]
    if layout == "graphs" and found:
        # The default graph of the queries: every triple once, whichever sources state it.
        union: dict[ox.Triple, None] = {}
        for triples in by_graph.values():
            union.update(triples)
        found.append(Payload(union_graph(target), list(union)))
    return found


def union_graph(target: str) -> str:
    """The publication's deduplicated union of its graphs, the default graph of the queries."""
    return f"{target}/union"


def _bnodes(triple: ox.Triple) -> list[str]:
    return [t.value for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)]


def batches(triples: list[ox.Triple], size: int) -> Iterator[list[ox.Triple]]:
    """Triples in batches of at most ``size``, keeping triples linked by blank nodes together.

    A blank node label only identifies one node within one request; split across two requests,
    ``_:b`` would become two nodes and the graph would change shape (and count). A connected group
    larger than ``size`` travels alone, whatever its size.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t in triples:
        nodes = _bnodes(t)
        for other in nodes[1:]:
            parent[find(other)] = find(nodes[0])
    groups: dict[str, list[ox.Triple]] = {}
    plain: list[list[ox.Triple]] = []
    for t in triples:
        nodes = _bnodes(t)
        if nodes:
            root = find(nodes[0])
            if root not in groups:
                groups[root] = []
                plain.append(groups[root])
            groups[root].append(t)
        else:
            plain.append([t])
    batch: list[ox.Triple] = []
    for group in plain:
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


def ntriples(triples: Iterable[ox.Triple]) -> bytes:
    return ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b""


# -- the remote side ---------------------------------------------------------------------------


@dataclass
class Target:
    """How to write to a remote store: endpoints and method, decided once from what it is."""

    store: RemoteStore
    method: str  # "gsp" or "update"
    gsp_param: str = "graph"
    virtuoso: bool = False
    # Virtuoso: the authenticated endpoint, for the checkpoints that make a publish durable
    admin: RemoteStore | None = None
    checkpoint: bool = True


def connect(
    endpoint: str,
    *,
    update_endpoint: str | None = None,
    graph_store: str | None = None,
    method: str = "auto",
    credentials: Credentials | None = None,
    timeout: float = 120,
    retries: int = 3,
    backoff: float = 0.5,
    allow_plain_http: bool = False,
    checkpoint: bool = True,
) -> Target:
    """Probe ``endpoint`` and choose the write endpoints.

    On Virtuoso (recognised by its ``Server`` header) writes go to ``/sparql-auth`` and
    ``/sparql-graph-crud-auth?graph-uri=``, both behind digest authentication; elsewhere to the
    given URLs, the update endpoint defaulting to ``endpoint`` (Fuseki: ``…/update``, GraphDB:
    ``…/statements``; see docs/remote.md).
    """
    probe = RemoteStore(
        endpoint,
        credentials=credentials,
        timeout=timeout,
        retries=retries,
        backoff=backoff,
        dataset=None,
        allow_plain_http=allow_plain_http,
    )
    probe.query("ASK { }")
    virtuoso = (probe.server or "").lower().startswith("virtuoso")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint))
    if virtuoso:
        update_endpoint = update_endpoint or f"{origin}/sparql-auth"
        graph_store = graph_store or f"{origin}/sparql-graph-crud-auth"
    if method == "auto":
        method = "gsp" if graph_store else "update"
    if method == "gsp" and not graph_store:
        raise StoreError("--method gsp needs --graph-store URL (the Graph Store Protocol endpoint)")
    store = RemoteStore(
        endpoint,
        update_endpoint=update_endpoint or endpoint,
        graph_store_endpoint=graph_store,
        credentials=credentials,
        timeout=timeout,
        retries=retries,
        backoff=backoff,
        dataset=None,  # publish must see every graph (staging, backups), not a publication's
        allow_plain_http=allow_plain_http,
    )
    param = "graph-uri" if virtuoso and graph_store and "sparql-graph-crud" in graph_store else "graph"
    admin = None
    if virtuoso:
        admin = RemoteStore(
            update_endpoint or endpoint,
            credentials=credentials,
            timeout=max(timeout, 600),  # a checkpoint of a big database takes a while
            retries=0,
            dataset=None,
            allow_plain_http=allow_plain_http,
        )
    return Target(store, method, param, virtuoso, admin, checkpoint)


# Virtuoso writes its pages at checkpoints; between two, its transaction log holds the changes,
# and we measured that a kill -9 followed by a restart loses part of a republished graph
# (MOVE onto an existing graph, then DROP of the backup: 81 of 157 triples left). A checkpoint
# (Virtuoso's ``checkpoint`` statement: it writes every changed page and starts a new log) makes
# everything before it durable. ``bif:exec`` is open to the dba group only; an account with
# fewer rights can be granted the one procedure below (docs/remote.md).
CHECKPOINT_PROCEDURE = "DB.DBA.CMQ_GRAPH_CHECKPOINT"
_CHECKPOINTS = (
    'SELECT (bif:exec("checkpoint") AS ?done) WHERE { }',
    f"SELECT (<sql:{CHECKPOINT_PROCEDURE.rsplit('.', 1)[1]}>() AS ?done) WHERE {{ }}",
)


def checkpoint(target: Target) -> bool:
    """Make every committed write durable now (Virtuoso); False where there is nothing to do.

    Raises PublishError, with what the administrator can do, if the account may not checkpoint.
    """
    if not target.virtuoso or not target.checkpoint or target.admin is None:
        return False
    refused = []
    for text in _CHECKPOINTS:
        try:
            target.admin.query(text)
            return True
        except CmqError as exc:
            refused.append(str(exc))
    raise PublishError(
        "Virtuoso would not make a checkpoint for this account, so a publish could not be made "
        f"durable (a crash would lose it): {refused[-1]}. Publish as a dba account, or have the "
        f"administrator grant {CHECKPOINT_PROCEDURE} (docs/remote.md), or give --no-checkpoint "
        "to accept the risk"
    )


def _iri(value: str) -> str:
    return sparql_term(URIRef(value))


def remote_counts(store: RemoteStore, graphs: Iterable[str]) -> dict[str, int]:
    """Triples per graph on the remote store (absent graphs are absent from the answer)."""
    graphs = list(dict.fromkeys(graphs))
    counts: dict[str, int] = {}
    for start in range(0, len(graphs), 200):
        chunk = " ".join(_iri(g) for g in graphs[start : start + 200])
        result = store.query(
            f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {chunk} }} GRAPH ?g {{ ?s ?p ?o }} }} "
            "GROUP BY ?g"
        )
        for g, n in result.rows:
            counts[str(g)] = int(n)  # type: ignore[arg-type]
    return counts


def previous_graphs(store: RemoteStore, manifest: str) -> list[str]:
    result = store.query(f"SELECT ?g WHERE {{ GRAPH {_iri(manifest)} {{ ?d {_iri(PUBLISHED_GRAPH)} ?g }} }}")
    return sorted(str(g) for (g,) in result.rows)


def stale_graphs(store: RemoteStore, target: str) -> list[str]:
    """Staging and backup graphs left by a publish that was killed (not one that failed: those clean up)."""
    prefixes = [f"{target}/staging/", f"{target}/backup/"]
    test = " || ".join(f"STRSTARTS(STR(?g), {sparql_term_str(p)})" for p in prefixes)
    result = store.query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER({test}) }}")
    return sorted(str(g) for (g,) in result.rows)


def publication_state(store: RemoteStore, manifest: str) -> str | None:
    """``complete``, ``publishing`` (a swap begun and not finished), or None (no manifest)."""
    m = _iri(manifest)
    rows = store.query(f"SELECT ?s WHERE {{ GRAPH {m} {{ {m} {_iri(PUBLICATION_STATE)} ?s }} }}").rows
    states = {str(s) for (s,) in rows}
    return "publishing" if "publishing" in states else next(iter(states), None)


_RUN = re.compile(r"/(?:staging|backup)/(\d{8}T\d{6})-[0-9a-f]+/\d+$")


def clean_stale(
    target: Target, graph: str, *, min_age: float = 3600, force: bool = False, dry_run: bool = False
) -> list[str]:
    """Drop the staging and backup graphs that interrupted publishes of ``graph`` left behind.

    Only graphs of runs older than ``min_age`` seconds (a publish running now keeps its own), and
    not while the manifest says a swap was interrupted (its backups hold the previous graphs:
    publish again first, which replaces every graph) unless ``force``. Returns the graphs dropped
    (or, with ``dry_run``, that would be). Ends with a checkpoint, like a publish.
    """
    remote = target.store
    stale = stale_graphs(remote, graph)
    now = datetime.now(UTC)
    old = []
    for g in stale:
        m = _RUN.search(g)
        started = datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC) if m else None
        if started is None or (now - started).total_seconds() >= min_age:
            old.append(g)
    if old and not force and publication_state(remote, graph) == "publishing":
        raise PublishError(
            f"the publication {graph} was interrupted while its graphs were being replaced, and its "
            "backup graphs hold the previous ones: publish again first (it replaces every graph), "
            "then clean, or give --force"
        )
    if dry_run:
        return old
    for g in old:
        remote.update(f"DROP SILENT GRAPH {_iri(g)}")
    if old:
        checkpoint(target)
    return old


def sparql_term_str(text: str) -> str:
    return sparql_term(Literal(text))


def upload(target: Target, graph: str, triples: list[ox.Triple], batch_size: int, say: Say) -> None:
    """Write ``triples`` into ``graph`` (a fresh staging graph) in bounded batches."""
    done = 0
    total = len(triples)
    next_report = time.monotonic() + 2
    for batch in batches(triples, batch_size):
        data = ntriples(batch)
        if target.method == "gsp":
            # N-Triples is Turtle; Virtuoso's graph CRUD endpoint is surest with text/turtle.
            target.store.graph_store_post(graph, data, "text/turtle", param=target.gsp_param)
        else:
            body = data.decode("utf-8")
            if any(_bnodes(t) for t in batch):
                # INSERT DATA may hold blank nodes in SPARQL 1.1, but Virtuoso refuses them (SP031).
                text = f"INSERT {{ GRAPH {_iri(graph)} {{\n{body}}} }} WHERE {{ }}"
            else:
                text = f"INSERT DATA {{ GRAPH {_iri(graph)} {{\n{body}}} }}"
            target.store.update(text)
        done += len(batch)
        if time.monotonic() >= next_report or done == total:
            say(f"    {done}/{total} triples")
            next_report = time.monotonic() + 2


@dataclass
class PublishReport:
    graphs: dict[str, int] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    method: str = ""
    seconds: float = 0.0
    union: tuple[str, int] | None = None  # the deduplicated union graph and its triples

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())


class PublishError(StoreError):
    """A publish failed; the remote graphs were left as they were (or the message says which not)."""


def _manifest_update(manifest: str, graphs: list[str], union: str | None, counts: dict[str, int]) -> str:
    """The complete manifest: its graphs, its union graph, and what each holds (see remote.py)."""
    now = Literal(datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=URIRef(_XSD + "dateTime"))
    m = _iri(manifest)

    def uri(g: str) -> str:
        return sparql_term(Literal(g, datatype=URIRef(_XSD + "anyURI")))

    lines = [
        f"{m} <{_DCT}modified> {sparql_term(now)} .",
        f"{m} <{_DCT}creator> {sparql_term_str('cmq-graph ' + __version__)} .",
        f"{m} {_iri(PUBLICATION_STATE)} {sparql_term_str('complete')} .",
        *(f"{m} {_iri(PUBLISHED_GRAPH)} {uri(g)} ." for g in graphs),
        *([f"{m} {_iri(UNION_GRAPH)} {uri(union)} ."] if union else []),
        *(
            f"{_iri(f'{manifest}#graph-{n}')} {_iri(ENTRY_GRAPH)} {uri(g)} ; {_iri(ENTRY_TRIPLES)} {count} ."
            for n, (g, count) in enumerate(sorted(counts.items()))
        ),
    ]
    body = "\n".join(lines)
    return f"DROP SILENT GRAPH {m} ;\nINSERT DATA {{ GRAPH {m} {{\n{body}\n}} }}"


def _mark_publishing(manifest: str) -> str:
    """Readers refuse a publication in this state (remote.py): the swap has begun."""
    m = _iri(manifest)
    state = _iri(PUBLICATION_STATE)
    return (
        f"DELETE WHERE {{ GRAPH {m} {{ {m} {state} ?state }} }} ;\n"
        f"INSERT DATA {{ GRAPH {m} {{ {m} {state} {sparql_term_str('publishing')} }} }}"
    )


def publish(
    store: EmbeddedStore,
    target: Target,
    graph: str,
    *,
    layout: str = "graphs",
    batch_size: int | None = None,
    say: Say = _stderr,
) -> PublishReport:
    """Publish ``store`` to ``target`` as the module docstring describes; raise on failure."""
    if layout not in ("graphs", "union"):
        raise StoreError(f"unknown layout {layout!r}: graphs or union")
    _iri(graph)  # refuse an IRI that could not be written into a query
    started = time.monotonic()
    say = _quiet_on_error(say)
    remote = target.store
    size = batch_size or (GSP_BATCH if target.method == "gsp" else UPDATE_BATCH)
    if target.method == "update":
        size = min(size, UPDATE_BATCH)
    data = payloads(store, layout, graph)
    if not data:
        raise StoreError("the store is empty: nothing to publish (run `cmq-graph build` first)")
    union = union_graph(graph) if layout == "graphs" else None
    run = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    staging = {p.graph: f"{graph}/staging/{run}/{n}" for n, p in enumerate(data)}
    expected = {p.graph: len(p.triples) for p in data}

    say(f"Publishing {sum(expected.values())} triples in {len(data)} graph(s) to {remote.endpoint}")
    for g in stale_graphs(remote, graph):
        say(f"  warning: {g} was left by an interrupted publish (DROP GRAPH it once checked)")
    previous = previous_graphs(remote, graph) if layout == "graphs" else []
    obsolete = [g for g in previous if g not in expected]
    named = sorted(g for g in expected if g != union)
    # Every graph the swap may change, and what it holds now.
    touched = [*expected, *obsolete, *([graph] if layout == "graphs" else [])]
    before = remote_counts(remote, touched)
    backup = {g: f"{graph}/backup/{run}/{n}" for n, g in enumerate(touched) if before.get(g)}

    # A harmless write first: wrong credentials or a read-only endpoint fail here, before any data
    # moves, with the server's own message. Then a checkpoint (Virtuoso): the graphs as they are
    # become durable, which is what a failed publish must leave, and an account that may not
    # checkpoint is refused before anything is written.
    try:
        remote.update(f"DROP SILENT GRAPH {_iri(staging[data[0].graph])}")
        checkpoint(target)
    except CmqError as exc:
        raise PublishError(f"publish failed before writing anything: {exc}") from exc

    swapped: list[str] = []
    try:
        for p in data:
            say(f"  {p.graph} ({len(p.triples)} triples) → staging")
            upload(target, staging[p.graph], p.triples, size, say)
        got = remote_counts(remote, staging.values())
        for g, n in expected.items():
            if got.get(staging[g], 0) != n:
                raise PublishError(
                    f"the staging copy of {g} holds {got.get(staging[g], 0)} triples, expected {n}: "
                    "the server changed the data on the way in"
                )
        if backup:
            say(f"  backing up {len(backup)} current graph(s)")
            remote.update(" ;\n".join(f"COPY {_iri(g)} TO {_iri(b)}" for g, b in backup.items()))
            got = remote_counts(remote, backup.values())
            for g, b in backup.items():
                if got.get(b, 0) != before[g]:
                    raise PublishError(
                        f"the backup of {g} holds {got.get(b, 0)} triples, expected {before[g]}"
                    )
        say("  replacing the target graphs")
        if layout == "graphs":
            swapped.append(graph)
            remote.update(_mark_publishing(graph))
        for g in expected:
            swapped.append(g)
            remote.update(f"MOVE {_iri(staging[g])} TO {_iri(g)}")
        for g in obsolete:
            swapped.append(g)
            remote.update(f"DROP SILENT GRAPH {_iri(g)}")
        if layout == "graphs":
            remote.update(_manifest_update(graph, named, union, expected))
        got = remote_counts(remote, [*expected, *obsolete])
        for g, n in expected.items():
            if got.get(g, 0) != n:
                raise PublishError(f"after the swap {g} holds {got.get(g, 0)} triples, expected {n}")
        for g in obsolete:
            if got.get(g):
                raise PublishError(f"{g} should have been dropped but still holds {got[g]} triples")
    except BaseException as exc:
        # Any failure, ours or not (a bug, Ctrl-C, a closed pipe): put the remote side back.
        problems = _rollback(remote, swapped, backup, [*staging.values(), *backup.values()], say)
        if not problems:
            try:
                checkpoint(target)
            except CmqError as again:
                problems.append(f"the restored graphs could not be made durable: {again}")
        message = f"publish failed: {exc if isinstance(exc, CmqError) else repr(exc)}"
        if swapped and not problems:
            message += "; the previous graphs were restored"
        elif not swapped:
            message += "; the remote graphs were not touched"
        if problems:
            message += "; cleaning up also failed, " + "; ".join(problems)
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: after the rollback
            raise
        raise PublishError(message) from exc

    for b in backup.values():
        try:
            remote.update(f"DROP SILENT GRAPH {_iri(b)}")
        except CmqError as exc:
            say(f"  warning: could not drop the backup graph {b}: {exc}")
    try:
        durable = checkpoint(target)
    except CmqError as exc:
        raise PublishError(
            f"the graphs were replaced, but not made durable (a crash of the server before its next "
            f"checkpoint would lose part of them): {exc}"
        ) from exc
    if durable:
        say("  checkpoint: the new graphs are durable")
    report = PublishReport(
        graphs={g: n for g, n in expected.items() if g != union},
        removed=obsolete,
        method=target.method,
        union=(union, expected[union]) if union else None,
    )
    report.seconds = time.monotonic() - started
    return report


def _quiet_on_error(say: Say) -> Say:
    """``say`` that never raises: progress output failing (``cmq-graph publish | head``: a closed
    pipe) must not abort a publish halfway."""

    def safe(message: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            say(message)

    return safe


def _rollback(
    remote: RemoteStore, swapped: list[str], backup: dict[str, str], scratch: list[str], say: Say
) -> list[str]:
    """Put back every target graph the swap may have changed, then drop scratch graphs.

    Best effort and bounded (each request has its own retries); returns what could not be done,
    so the error message can name the graphs a person must look at.
    """
    problems = []
    for g in swapped:
        restore = f"DROP SILENT GRAPH {_iri(g)}"
        if g in backup:
            restore += f" ;\nMOVE SILENT {_iri(backup[g])} TO {_iri(g)}"
        try:
            remote.update(restore)
            say(f"  restored {g}")
        except CmqError as exc:
            kept = f" (its backup is {backup[g]})" if g in backup else ""
            problems.append(f"{g} could not be restored{kept}: {exc}")
    for s in scratch:
        try:
            remote.update(f"DROP SILENT GRAPH {_iri(s)}")
        except CmqError as exc:
            problems.append(f"{s} could not be dropped: {exc}")
            break  # the endpoint is probably gone; do not wait on each graph
    return problems

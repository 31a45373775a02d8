"""The worker pool on its own: the store it offers to the resources hook answers as the embedded
store does (SELECT with bindings, ASK, CONSTRUCT), with the pool's time limit; and the protocol's
format negotiation."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.compare import isomorphic

from cmq_graph.errors import QueryError
from cmq_graph.namespaces import PREFIXES
from cmq_graph.store import EmbeddedStore
from cmq_graph.web import protocol
from cmq_graph.web.pool import QueryPool
from cmq_graph.web.server import PoolStore, Settings
from cmq_graph.web.worker import CappedLines, Job


@pytest.fixture(scope="module")
def pool_store(store_root: Path) -> Iterator[PoolStore]:
    loop = asyncio.new_event_loop()
    pool = QueryPool(store_root, PREFIXES, size=2)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(pool.start(), loop).result()
    try:
        yield PoolStore(pool, loop, Settings(root=store_root, timeout=2))
    finally:
        asyncio.run_coroutine_threadsafe(pool.close(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def test_pool_store_answers_as_the_embedded_store(pool_store, store_root):
    embedded = EmbeddedStore.open(store_root)
    select = "SELECT ?c ?l WHERE { ?c a cmq:Campus ; rdfs:label ?l } ORDER BY ?c ?l"
    ours, theirs = pool_store.query(select), embedded.query(select)
    assert ours.kind == "select" and ours.variables == theirs.variables
    assert ours.rows == theirs.rows and ours.rows
    campus = ours.rows[0][0]
    assert isinstance(campus, URIRef) and isinstance(ours.rows[0][1], Literal)
    bound = "SELECT ?c ?p ?o WHERE { ?c ?p ?o } ORDER BY ?p ?o"
    assert pool_store.query(bound, {"c": campus}).rows == embedded.query(bound, {"c": campus}).rows
    ask = "ASK { ?c a cmq:Campus }"
    assert pool_store.query(ask).boolean is True
    assert pool_store.query("ASK { ?c a cmq:Nothing }").boolean is False
    construct = "CONSTRUCT { ?c ?p ?o } WHERE { ?c a cmq:Campus ; ?p ?o }"
    g = pool_store.query(construct).graph
    assert g is not None and isomorphic(g, embedded.query(construct).graph)


def test_pool_store_stops_a_long_query_and_reports_errors(pool_store):
    with pytest.raises(QueryError, match="time limit"):
        pool_store.query("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", timeout=0.5)
    with pytest.raises(QueryError, match="syntax"):
        pool_store.query("SELEKT")
    with pytest.raises(QueryError, match="projection"):
        pool_store.query("SELECT ?p WHERE { ?c ?p ?o }", {"c": URIRef("https://example.org/c")})
    assert pool_store.query("ASK { ?c a cmq:Campus }").boolean is True  # a fresh worker took over


def test_capped_lines_keeps_whole_lines():
    sink = CappedLines(max_lines=3, max_bytes=1000)
    sink.write(b"a\nb")
    with pytest.raises(OSError):
        sink.write(b"b\nc\nd\ne\n")
    assert sink.full and sink.data() == b"a\nbb\nc\n"
    sink = CappedLines(max_lines=100, max_bytes=5)
    with pytest.raises(OSError):
        sink.write(b"ab\ncd\nef\n")
    assert sink.data() == b"ab\n"


@pytest.mark.parametrize(("accept", "fmt", "expected"), [
    (None, None, ("JSON", "TURTLE")),
    ("*/*", None, ("JSON", "TURTLE")),
    ("text/turtle", None, (None, "TURTLE")),
    ("text/csv", None, ("CSV", None)),
    ("application/json", None, ("JSON", "JSON_LD")),
    ("text/turtle;q=0.5, application/n-triples", None, (None, "N_TRIPLES")),
    ("application/sparql-results+xml;q=0.9, application/sparql-results+json", None, ("JSON", None)),
    ("text/html, */*;q=0.1", None, ("JSON", "TURTLE")),
    ("application/n-triples,*/*;q=0.9", None, ("JSON", "N_TRIPLES")),
    ("text/csv;q=0", None, (None, None)),
    ("text/csv", "tsv", ("TSV", None)),
    ("text/csv", "application/ld+json", (None, "JSON_LD")),
])
def test_negotiation(accept, fmt, expected):
    assert protocol.negotiate(accept, fmt) == expected


def test_a_materialised_union_is_read_as_the_default_graph(tmp_path):
    """Where the build wrote the union into the default graph (each triple once), the workers
    read it rather than Oxigraph's union, which repeats a triple per source stating it."""
    import pyoxigraph as ox

    from cmq_graph.store import activate, write_generation

    a, p, b = ox.NamedNode("https://example.org/a"), ox.NamedNode("https://example.org/p"), ox.Literal("b")
    g1, g2 = ox.NamedNode("https://example.org/g1"), ox.NamedNode("https://example.org/g2")
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    for quads, expected in [([ox.Quad(a, p, b, g1), ox.Quad(a, p, b, g2)], "2"),
                            ([ox.Quad(a, p, b, g1), ox.Quad(a, p, b, g2), ox.Quad(a, p, b)], "1")]:
        root = tmp_path / f"store-{expected}"
        activate(root, write_generation(root, quads))
        loop = asyncio.new_event_loop()
        pool = QueryPool(root, PREFIXES, size=1)
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        asyncio.run_coroutine_threadsafe(pool.start(), loop).result()
        try:
            store = PoolStore(pool, loop, Settings(root=root))
            assert str(store.query(count).rows[0][0]) == expected
            # GRAPH ?g still reads the sources.
            assert len(store.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows) == 2
        finally:
            asyncio.run_coroutine_threadsafe(pool.close(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)


class _NonBlockingLoop(asyncio.SelectorEventLoop):
    """An event loop that leaves a watched descriptor non-blocking, as Granian's loop does."""

    def add_reader(self, fd, callback, *args):  # type: ignore[no-untyped-def, override]
        os.set_blocking(fd, False)
        return super().add_reader(fd, callback, *args)


def test_an_answer_larger_than_the_pipe_arrives_on_a_non_blocking_descriptor(store_root):
    """A worker's answer comes in pieces when the loop has made the pipe non-blocking: the pool
    waits for all of it (a whole-message read failed there with BlockingIOError)."""
    loop = _NonBlockingLoop()
    pool = QueryPool(store_root, PREFIXES, size=1)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(pool.start(), loop).result()
    try:
        store = PoolStore(pool, loop, Settings(root=store_root))
        everything = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
        answer = asyncio.run_coroutine_threadsafe(
            pool.run(Job(everything, lines_only=True), 60), loop).result()
        assert answer.status == 200, answer.error
        assert len(answer.body) > 1024 * 1024  # far more than a pipe holds at once
        with EmbeddedStore.open(store_root) as embedded:
            assert len(store.query(everything).graph) == len(embedded.query(everything).graph)
        assert pool.restarts == 0
    finally:
        asyncio.run_coroutine_threadsafe(pool.close(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)

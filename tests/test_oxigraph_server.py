"""The generic protocol path against a second real engine: the ``oxigraph`` package's server.

``publish`` writes by the Graph Store Protocol or by SPARQL Update (both run), the catalogue is
run back through the endpoint, and every answer is compared with the local dataset read with
SPARQL's set semantics (the same oracle as for Virtuoso). Nothing here is specific to Oxigraph
but the URLs: it is what a Fuseki or GraphDB user does (docs/remote.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import IN_CI
from conftest_virtuoso import set_semantics_oracle
from oxigraph_server import OxigraphServer, program, start

from cmq_graph import catalog
from cmq_graph.errors import QueryError
from cmq_graph.publish import remote_counts, stale_graphs, union_graph
from cmq_graph.remote import DEFAULT_DATASET, RemoteStore
from cmq_graph.store import EmbeddedStore

pytestmark = pytest.mark.xdist_group("oxigraph-server")


@pytest.fixture(scope="module")
def command() -> str:
    found = program()
    if found is None:
        message = "the oxigraph server is not installed (pip install 'cmq-graph[test]')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def server(tmp_path: Path, command: str) -> Iterator[OxigraphServer]:
    s = start(tmp_path, command=command)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def local(store_root: Path) -> EmbeddedStore:
    return EmbeddedStore.open(store_root, in_memory=True)


def _publish(server: OxigraphServer, store_root: Path, method: str) -> str:
    argv = [sys.executable, "-m", "cmq_graph.cli", "publish", "--store", str(store_root)]
    argv += ["--endpoint", server.query, "--update-endpoint", server.update, "--method", method]
    if method == "gsp":
        argv += ["--graph-store", server.store]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMQ_GRAPH_")}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert "SPARQL 1.1 store" in done.stdout and "Published" in done.stdout
    return done.stdout


@pytest.mark.parametrize("method", ["gsp", "update"])
def test_publish_then_the_catalogue_answers_as_locally(
    server: OxigraphServer, store_root: Path, local: EmbeddedStore, method: str
) -> None:
    _publish(server, store_root, method)
    _publish(server, store_root, method)  # the second replaces every graph
    writer = RemoteStore(server.query, dataset=None, timeout=60)
    counts: dict[str, int] = {}
    distinct = set()
    for q in local.quads():
        counts[q.graph_name.value] = counts.get(q.graph_name.value, 0) + 1
        distinct.add(ox.Triple(q.subject, q.predicate, q.object))
    assert remote_counts(writer, [*counts, union_graph(DEFAULT_DATASET)]) == counts | {
        union_graph(DEFAULT_DATASET): len(distinct)
    }
    assert stale_graphs(writer, DEFAULT_DATASET) == []

    reader = RemoteStore(server.query, timeout=60)
    oracle = set_semantics_oracle(local)
    queries = {n: q for n, q in catalog.catalogue().items() if not any(p.required for p in q.params)}
    assert len(queries) > 10
    different, broken = {}, {}
    for name, query in sorted(queries.items()):
        here = catalog.comparable(catalog.run(oracle, query))
        try:
            there = catalog.comparable(catalog.run(reader, query))
        except QueryError as exc:
            broken[name] = str(exc)
            continue
        if there != here:
            different[name] = (here, there)
    assert broken == {}
    assert different == {}
    # The default graph is the deduplicated union: a campus stated by two sources counts once.
    n = reader.query("SELECT (COUNT(*) AS ?n) WHERE { ?c a cmq:Campus }").rows[0][0]
    m = local.query("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a cmq:Campus }").rows[0][0]
    assert int(n) == int(m) > 0


def test_the_published_graph_persists_across_a_restart(
    server: OxigraphServer, store_root: Path, local: EmbeddedStore, command: str
) -> None:
    _publish(server, store_root, "gsp")
    server.process.kill()  # kill -9: Oxigraph commits each request to RocksDB before answering
    server.process.wait(timeout=10)
    again = start(server.directory, command=command)
    try:
        reader = RemoteStore(again.query, timeout=60)
        oracle = set_semantics_oracle(local)
        for name in ("campuses", "sources"):
            query = catalog.catalogue()[name]
            assert catalog.comparable(catalog.run(reader, query)) == catalog.comparable(
                catalog.run(oracle, query)
            )
    finally:
        again.stop()

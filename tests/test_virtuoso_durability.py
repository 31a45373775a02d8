"""A publish survives ``kill -9`` of Virtuoso: after a success, durable; during one, harmless.

Each test runs its own server (it is killed and restarted) and publishes the curated graph as
the command line does. After the restart, Virtuoso has replayed its transaction log from the
last checkpoint: the graphs it then holds are compared with the local ones, graph by graph and
triple by triple, and the anonymous endpoint is queried as an analyst would (catalogue queries
against the local dataset with SPARQL's set semantics). A kill in the middle of a publish is
injected by the proxy between cmq-graph and the server, at a chosen request.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import require_program
from conftest_virtuoso import VIRTUOSO_WRONG, create_account, set_semantics_oracle
from fake_endpoint import FailingProxy, Received
from rdflib import Graph
from rdflib.compare import isomorphic
from virtuoso import DBA, Virtuoso, restart, start

from cmq_graph import catalog
from cmq_graph.errors import StoreError
from cmq_graph.publish import (
    PUBLISHED_GRAPH,
    PublishError,
    connect,
    publish,
    remote_counts,
    stale_graphs,
    union_graph,
)
from cmq_graph.remote import DEFAULT_DATASET, Credentials, RemoteStore
from cmq_graph.store import EmbeddedStore

pytestmark = [pytest.mark.virtuoso, pytest.mark.xdist_group("virtuoso")]

ACCOUNT = Credentials("durable-publisher", "pw-Durable-9z")
LIMITED = Credentials("no-checkpoint", "pw-Limited-4k")
QUERIES = 8  # catalogue queries compared after each restart (the first ones without parameters)


class Server:
    """The running server of a test; ``kill_and_restart`` replaces it by the restarted one."""

    def __init__(self, directory: Path):
        self.v: Virtuoso = start(directory)
        create_account(self.v, ACCOUNT, checkpoint=True)
        create_account(self.v, LIMITED, checkpoint=False)

    def kill_and_restart(self) -> None:
        self.v.kill()
        self.v = restart(self.v)

    def writer(self) -> RemoteStore:
        return RemoteStore(
            self.v.sparql_auth, credentials=Credentials(*DBA), timeout=120, retries=1, dataset=None
        )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    require_program("virtuoso-t")
    require_program("isql-vt")
    s = Server(tmp_path / "virtuoso")
    try:
        yield s
    finally:
        s.v.stop()


@pytest.fixture(scope="module")
def v1(store_root: Path) -> EmbeddedStore:
    return EmbeddedStore.open(store_root, in_memory=True)


@pytest.fixture(scope="module")
def v2(v1: EmbeddedStore) -> EmbeddedStore:
    """The curated graph with one source gone and a statement added: told apart from v1."""
    quads = list(v1.quads())
    sources = sorted({q.graph_name.value for q in quads if "/id/source/" in q.graph_name.value})
    gone = sources[0]
    meta = next(q.graph_name for q in quads if q.graph_name.value.endswith("/graph/meta"))
    added = ox.Quad(
        ox.NamedNode("https://w3id.org/cmq/id/test/durability"),
        ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
        ox.Literal("deuxième version", language="fr"),
        meta,
    )
    return EmbeddedStore.from_quads([*(q for q in quads if q.graph_name.value != gone), added])


def _cli_publish(server: Server, store_root: Path, account: Credentials, *extra: str) -> None:
    env = dict(os.environ, CMQ_GRAPH_USER=account.user, CMQ_GRAPH_PASSWORD=account.password)
    argv = [sys.executable, "-m", "cmq_graph.cli", "publish", "--endpoint", server.v.sparql]
    done = subprocess.run(
        [*argv, "--store", str(store_root), *extra], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert "checkpoint" not in extra or "durable" not in done.stderr


def _clean(server: Server, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CMQ_GRAPH_USER=ACCOUNT.user, CMQ_GRAPH_PASSWORD=ACCOUNT.password)
    argv = [sys.executable, "-m", "cmq_graph.cli", "publish-clean", "--endpoint", server.v.sparql]
    return subprocess.run([*argv, *extra], env=env, capture_output=True, text=True, timeout=300)


def _local_graphs(store: EmbeddedStore) -> dict[str, Graph]:
    lines: dict[str, list[str]] = {}
    for q in store.quads():
        lines.setdefault(q.graph_name.value, []).append(f"{ox.Triple(q.subject, q.predicate, q.object)} .")
    return {g: Graph().parse(data="\n".join(text), format="nt") for g, text in lines.items()}


def _remote_graph(store: RemoteStore, graph: str) -> Graph:
    result = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    assert result.graph is not None
    return result.graph


def assert_published(server: Server, local: EmbeddedStore) -> None:
    """The server holds exactly ``local``: the manifest's graphs, each graph's triples, the union;
    and the anonymous endpoint answers the catalogue as the local dataset does."""
    writer = server.writer()
    expected = _local_graphs(local)
    listed = writer.query(
        f"SELECT ?g WHERE {{ GRAPH <{DEFAULT_DATASET}> {{ ?m <{PUBLISHED_GRAPH}> ?g }} }}"
    ).rows
    assert sorted(str(g) for (g,) in listed) == sorted(expected)
    counts = remote_counts(writer, expected)
    assert counts == {g: len(graph) for g, graph in expected.items()}
    for g, graph in expected.items():
        assert isomorphic(_remote_graph(writer, g), graph), g
    distinct = {ox.Triple(q.subject, q.predicate, q.object) for q in local.quads()}
    assert remote_counts(writer, [union_graph(DEFAULT_DATASET)]) == {
        union_graph(DEFAULT_DATASET): len(distinct)
    }

    oracle = set_semantics_oracle(local)
    reader = RemoteStore(server.v.sparql, timeout=120, retries=1)
    runnable = [
        q
        for name, q in sorted(catalog.catalogue().items())
        if not any(p.required for p in q.params) and name not in VIRTUOSO_WRONG
    ]
    for query in runnable[:QUERIES]:
        here = catalog.comparable(catalog.run(oracle, query))
        assert catalog.comparable(catalog.run(reader, query)) == here, query.name


def test_a_successful_publish_survives_kill_9(server: Server, store_root: Path, v1: EmbeddedStore) -> None:
    """Published twice (the second replaces every graph), the server killed at once: all there."""
    _cli_publish(server, store_root, ACCOUNT)
    _cli_publish(server, store_root, ACCOUNT)
    assert_published(server, v1)
    server.kill_and_restart()
    assert_published(server, v1)
    assert stale_graphs(server.writer(), DEFAULT_DATASET) == []


def test_a_server_that_refuses_checkpoints_gets_nothing_written(server: Server, v1: EmbeddedStore) -> None:
    """A hardened server that will not checkpoint for the account (simulated by the proxy: Debian's
    Virtuoso 7.2 lets any account run ``bif:exec``) is refused before any graph is written."""

    def refuse(_n: int, r: Received) -> int | None:
        text = r.sparql()
        return 500 if "checkpoint" in text.lower() or "CMQ_GRAPH_CHECKPOINT" in text else None

    with FailingProxy(server.v.base, refuse) as proxy:
        target = connect(f"{proxy.base}/sparql", credentials=LIMITED, timeout=30, retries=0)
        with pytest.raises(PublishError, match=r"before writing anything: .*checkpoint.*--no-checkpoint"):
            publish(v1, target, DEFAULT_DATASET, say=lambda _m: None)
        assert len(proxy.failed) == 2  # bif:exec, then the granted procedure
    assert stale_graphs(server.writer(), DEFAULT_DATASET) == []
    assert remote_counts(server.writer(), [DEFAULT_DATASET, *_local_graphs(v1)]) == {}


@pytest.mark.xfail(
    strict=False,  # a crash may happen to lose nothing, and then the test passes
    reason="open defect (issue 11): with the national data, a crash after two --no-checkpoint "
    "publishes lost writes that the manifest check did not detect (readers answered from partial "
    "graphs, e.g. 37 of 159 triples); publishes with checkpoints, the default, are tested above",
)
def test_without_checkpoint_a_crash_is_detected_never_answered(
    server: Server, store_root: Path, v1: EmbeddedStore
) -> None:
    """The control: with --no-checkpoint, a republish followed by a crash may lose writes (we
    measured it: 81 of 157 triples); readers then refuse to answer (the manifest's counts) rather
    than answer from part of a graph. A publish with checkpoints repairs it."""
    _cli_publish(server, store_root, LIMITED, "--no-checkpoint")
    _cli_publish(server, store_root, LIMITED, "--no-checkpoint")
    server.kill_and_restart()
    reader = RemoteStore(server.v.sparql, timeout=120, retries=0)
    try:
        reader.query("ASK { ?s ?p ?o }")  # the first query reads and checks the manifest
    except StoreError as exc:
        assert "is incomplete" in str(exc) and "publish again" in str(exc)
    else:
        assert_published(server, v1)  # the crash happened to lose nothing: then all is there
    _cli_publish(server, store_root, ACCOUNT)
    server.kill_and_restart()
    assert_published(server, v1)


def _killer(server: Server, when: str):
    """A proxy rule that kills the server (kill -9) at the request ``when`` picks, and drops it."""
    seen = {"upload": 0, "swap": 0}

    def rule(_n: int, r: Received) -> int | None:
        if r.path.startswith("/sparql-graph-crud"):
            seen["upload"] += 1
        elif b"MOVE" in r.body and b"staging" in r.body:
            seen["swap"] += 1
        if seen[when] == 3:
            server.v.kill()
            seen[when] += 1
            return 0
        return None

    return rule


@pytest.mark.parametrize("when", ["upload", "swap"])
def test_a_publish_killed_midway_is_harmless(
    server: Server, store_root: Path, v1: EmbeddedStore, v2: EmbeddedStore, when: str
) -> None:
    """Killed while uploading, the previous graphs are all there; killed while swapping, readers
    refuse until the next publish (never a mix); publishing again then gives the new graph, and
    publish-clean drops what the killed publish left."""
    _cli_publish(server, store_root, ACCOUNT)
    with FailingProxy(server.v.base, _killer(server, when)) as proxy:
        target = connect(f"{proxy.base}/sparql", credentials=ACCOUNT, timeout=30, retries=1, backoff=0.05)
        with pytest.raises(PublishError):
            publish(v2, target, DEFAULT_DATASET, say=lambda _m: None)
    assert server.v.process.poll() is not None  # it was killed, not merely failed
    server.v = restart(server.v)
    left = stale_graphs(server.writer(), DEFAULT_DATASET)
    assert left, "the killed publish left its staging graphs"

    if when == "upload":
        assert_published(server, v1)
        cleaned = _clean(server, "--min-age", "0")
        assert cleaned.returncode == 0, cleaned.stderr
        assert f"{len(left)} stale staging/backup graph(s)" in cleaned.stdout
        assert stale_graphs(server.writer(), DEFAULT_DATASET) == []
        assert_published(server, v1)
    else:
        reader = RemoteStore(server.v.sparql, timeout=60, retries=0)
        with pytest.raises(StoreError, match="being replaced, or its publish was interrupted"):
            reader.query("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
        refused = _clean(server, "--min-age", "0")
        assert refused.returncode != 0 and "publish again first" in refused.stderr
        assert stale_graphs(server.writer(), DEFAULT_DATASET) == left

    publish(
        v2, connect(server.v.sparql, credentials=ACCOUNT, timeout=120), DEFAULT_DATASET, say=lambda _m: None
    )
    cleaned = _clean(server, "--min-age", "0")
    assert cleaned.returncode == 0, cleaned.stderr
    assert stale_graphs(server.writer(), DEFAULT_DATASET) == []
    server.kill_and_restart()
    assert_published(server, v2)


def test_clean_keeps_the_graphs_of_a_recent_run(server: Server, store_root: Path, v1: EmbeddedStore) -> None:
    """A publish running now keeps its staging graphs: only runs older than --min-age go."""
    writer = server.writer()
    recent = f"{DEFAULT_DATASET}/staging/29991231T235959-abcdef/0"
    writer.update(f"INSERT DATA {{ GRAPH <{recent}> {{ <urn:a> <urn:b> <urn:c> }} }}")
    old = f"{DEFAULT_DATASET}/backup/20200101T000000-abcdef/3"
    writer.update(f"INSERT DATA {{ GRAPH <{old}> {{ <urn:a> <urn:b> <urn:c> }} }}")
    listed = _clean(server, "--dry-run")
    assert listed.returncode == 0, listed.stderr
    assert old in listed.stdout and recent not in listed.stdout
    assert stale_graphs(writer, DEFAULT_DATASET) == sorted([old, recent])
    done = _clean(server)
    assert done.returncode == 0, done.stderr
    assert stale_graphs(writer, DEFAULT_DATASET) == [recent]

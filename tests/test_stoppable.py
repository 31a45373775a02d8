"""Nothing stuck: embedded queries stop (timeout, SIGINT) and their process stops using CPU;
bad timeouts, SERVICE, untyped parameter values are refused; ``--limit`` travels with the query;
CSV/TSV outputs neutralise spreadsheet formulas.

CPU is read from the worker process itself (psutil), never inferred from wall-clock time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pyoxigraph as ox
import pytest
from fake_endpoint import FakeEndpoint, Reply

from cmq_graph import catalog, results
from cmq_graph.api import open_store, run
from cmq_graph.errors import QueryError
from cmq_graph.remote import RemoteStore
from cmq_graph.store import EmbeddedStore

CLI = [sys.executable, "-m", "cmq_graph.cli"]
ROOT = Path(__file__).resolve().parent.parent
# A cross product that runs for minutes on the curated graph, whatever the machine.
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ROWS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def env(store: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "CMQ_GRAPH_STORE": str(store)}


def busy_child(parent: psutil.Process, deadline: float = 60) -> psutil.Process:
    """The parent's query worker, once it is burning CPU on the query."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for child in parent.children(recursive=True):
            try:
                if "cmq_graph.query_worker" in " ".join(child.cmdline()) and child.cpu_percent(0.3) > 20:
                    return child
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.1)
    raise AssertionError("the query worker never got busy")


def cpu_after(pid: int, wait: float = 1.0) -> float:
    """CPU seconds the process uses in the second after ``wait`` s (0 if it is gone)."""
    time.sleep(wait)
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return 0.0
        before = sum(proc.cpu_times()[:2])
        time.sleep(1.0)
        return sum(proc.cpu_times()[:2]) - before
    except psutil.NoSuchProcess:
        return 0.0


@pytest.mark.parametrize("in_memory", [False, True])
def test_timeout_kills_the_worker_and_the_next_query_works(store_root: Path, in_memory: bool) -> None:
    store = open_store(store_root, in_memory=in_memory)
    try:
        assert store.query("ASK { ?s ?p ?o }").boolean
        pid = store.worker_pid
        assert pid is not None
        busy = psutil.Process(pid)
        with pytest.raises(QueryError, match=r"timed out after 1 s \(stopped\)"):
            store.query(HEAVY, timeout=1)
        assert cpu_after(pid, 0.5) < 0.05, "the timed-out query still uses CPU"
        assert not busy.is_running() or busy.status() == psutil.STATUS_ZOMBIE
        assert int(run(store, "SELECT (COUNT(*) AS ?n) WHERE { ?c a cmq:Campus }").rows[0][0]) > 0
        assert store.worker_pid not in (None, pid)
    finally:
        store.close()


def test_sigint_stops_the_cli_query_and_its_cpu(store_root: Path) -> None:
    cli = subprocess.Popen(
        [*CLI, "query", HEAVY, "--timeout", "600"], env=env(store_root), stderr=subprocess.PIPE, text=True
    )
    try:
        worker = busy_child(psutil.Process(cli.pid))
        cli.send_signal(signal.SIGINT)
        code = cli.wait(timeout=10)
        assert code == 130
        assert cpu_after(worker.pid) < 0.05
    finally:
        if cli.poll() is None:
            cli.kill()


NOTEBOOK = """
import sys, time
from cmq_graph.api import open_store, run
store = open_store(sys.argv[1])
try:
    run(store, sys.argv[2])  # the default timeout (60 s) is far away
except KeyboardInterrupt:
    print("interrupted", flush=True)
print(run(store, "SELECT (COUNT(*) AS ?n) WHERE { ?c a cmq:Campus }").rows[0][0], flush=True)
"""


def test_an_interrupt_in_a_notebook_stops_the_query(store_root: Path) -> None:
    """A kernel interrupt is a SIGINT to the Python process: the query stops, the store stays usable."""
    py = subprocess.Popen(
        [sys.executable, "-c", NOTEBOOK, str(store_root), HEAVY],
        env=env(store_root),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        worker = busy_child(psutil.Process(py.pid))
        py.send_signal(signal.SIGINT)
        out, err = py.communicate(timeout=30)
        assert py.returncode == 0, err
        lines = out.split()
        assert lines[0] == "interrupted" and int(lines[1]) > 0
        assert cpu_after(worker.pid, 0) < 0.05
    finally:
        if py.poll() is None:
            py.kill()


@pytest.mark.parametrize("value", ["0", "-1", "nan", "-0.5"])
def test_bad_timeouts_are_refused(store_root: Path, value: str) -> None:
    done = subprocess.run(
        [*CLI, "query", "campuses", f"--timeout={value}"], env=env(store_root), capture_output=True, text=True
    )
    assert done.returncode == 5
    assert done.stderr.strip().splitlines() == [
        f"cmq-graph: the timeout must be a positive number of seconds, not {float(value)!r}"
    ]


def test_limit_is_sent_with_the_query(store_root: Path) -> None:
    """A cross product of billions of rows answers its first 5 at once: the engine stops there."""
    done = subprocess.run(
        [*CLI, "query", ROWS, "--limit", "5", "--timeout", "30", "-f", "csv"],
        env=env(store_root),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 + 5
    assert "first 5 rows (there are more)" in done.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT ?s WHERE { ?s ?p ?o }", "SELECT ?s WHERE { ?s ?p ?o }\nLIMIT 3\n"),
        (
            "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s # done",
            "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s # done\nLIMIT 3\n",
        ),
        ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 10 OFFSET 2", "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3 OFFSET 2"),
        ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 2", "SELECT ?s WHERE { ?s ?p ?o } LIMIT 2"),
        (
            "SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 100 } }",
            "SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 100 } }\nLIMIT 3\n",
        ),
        (
            "SELECT ?s WHERE { ?s ?p ?o } VALUES ?s { <urn:a> }",
            "SELECT ?s WHERE { ?s ?p ?o }\nLIMIT 3\nVALUES ?s { <urn:a> }",
        ),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }\nLIMIT 3\n"),
        ("ASK { ?s ?p ?o }", "ASK { ?s ?p ?o }"),
    ],
)
def test_with_limit_writes_a_valid_limit(text: str, expected: str) -> None:
    limited = catalog.with_limit(text, 3)
    assert limited == expected
    assert catalog.syntax_error(limited) is None


def test_service_is_refused_and_nothing_goes_out(store_root: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    text = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
    try:
        done = subprocess.run([*CLI, "query", text], env=env(store_root), capture_output=True, text=True)
        assert done.returncode == 5
        assert "SERVICE is not allowed" in done.stderr
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    with EmbeddedStore.open(store_root) as store, pytest.raises(QueryError, match="SERVICE"):
        store.query(f"# SERVICE in a comment is fine\n{text.replace('SERVICE', 'service')}")


MEMBERS = """# title@fr: t
# title@en: t
# description: d
# param: ?campus iri — the campus
# param: ?n integer = 1 — a number
SELECT ?m ?n WHERE { ?m org:organization ?campus }
"""


def test_python_values_must_fit_the_parameter_type(store: EmbeddedStore) -> None:
    q = catalog.parse(MEMBERS, "members")
    with pytest.raises(QueryError, match=r"parameter 'campus' \(iri\): got the int 5; expected text"):
        catalog.bind(q, {"campus": 5})
    with pytest.raises(QueryError, match=r"got the bool True"):
        catalog.bind(q, {"campus": "id:campus/x", "n": True})
    assert str(catalog.bind(q, {"campus": "id:campus/x", "n": 7})["n"]) == "7"


def test_a_parameter_not_projected_is_refused_on_both_backends(store: EmbeddedStore) -> None:
    q = catalog.parse(MEMBERS, "members")  # ?n is projected, ?campus is not
    message = r"parameter \?campus must appear in the SELECT clause"
    with pytest.raises(QueryError, match=message):
        catalog.run(store, q, {"campus": "id:campus/x"})
    with FakeEndpoint([Reply(body=b"{}")]) as fake:
        with pytest.raises(QueryError, match=message):
            catalog.run(RemoteStore(fake.url), q, {"campus": "id:campus/x"})
        assert fake.received == []


def test_csv_and_tsv_neutralise_formulas() -> None:
    ex = "urn:x:"
    cells = ['=HYPERLINK("http://evil")', "+33 1 23", "@SUM(A1)", "\tx", "-3", "plain", "-x"]
    quads = [
        ox.Quad(ox.NamedNode(f"{ex}{i}"), ox.NamedNode(f"{ex}p"), ox.Literal(c), ox.NamedNode(f"{ex}g"))
        for i, c in enumerate(cells)
    ]
    quads.append(
        ox.Quad(
            ox.NamedNode(f"{ex}n"),
            ox.NamedNode(f"{ex}p"),
            ox.Literal("-5", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
            ox.NamedNode(f"{ex}g"),
        )
    )
    result = EmbeddedStore.from_quads(quads).query("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s")
    import csv
    import io

    got = {row[0]: row[1] for row in list(csv.reader(io.StringIO(results.to_csv(result))))[1:]}
    assert got["urn:x:0"] == '\'=HYPERLINK("http://evil")'
    assert got["urn:x:1"] == "'+33 1 23" and got["urn:x:2"] == "'@SUM(A1)" and got["urn:x:3"] == "'\tx"
    assert got["urn:x:4"] == "-3" and got["urn:x:5"] == "plain" and got["urn:x:6"] == "'-x"
    assert got["urn:x:n"] == "-5"
    tsv = results.to_tsv(result)
    assert '"\'=HYPERLINK(\\"http://evil\\")"' in tsv and '"plain"' in tsv
    assert '\t"\'@SUM(A1)"' in tsv

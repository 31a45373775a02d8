"""``cmq-graph queries`` and ``cmq-graph query`` on the mini fixture store: formats, parameters,
stdin and files, errors and exit codes, timeouts, and the remote backend's absence."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from cmq_graph import catalog, query_commands
from cmq_graph.build import build
from cmq_graph.cli import main
from cmq_graph.errors import CmqError

MINI = Path(__file__).parent / "fixtures" / "mini"
ID = "https://w3id.org/cmq/id/"
CLI = [sys.executable, "-m", "cmq_graph.cli"]

MEMBERS = """\
# title@fr: Membres d'un campus
# title@en: Members of a campus
# description: Members with their role.
# param: ?campus iri = id:campus/c1 — the campus
# param: ?name string = "" — a name to match
SELECT ?campus ?member ?role ?name WHERE {
  ?m org:organization ?campus ; org:member ?member ; org:role ?role .
}
ORDER BY ?member
"""


@pytest.fixture(scope="module")
def mini_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("query-cli") / "store"
    build(MINI / "data", MINI / "ontology", root, say=lambda _m: None)
    return root


@pytest.fixture()
def members_file(tmp_path: Path) -> Path:
    path = tmp_path / "members.rq"
    path.write_text(MEMBERS, encoding="utf-8")
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- the catalogue listing ------------------------------------------------------------------


def test_queries_lists_every_catalogue_query(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "queries")
    assert code == 0
    for q in catalog.catalogue().values():
        assert f"{q.name}\n    {q.title}\n" in out
        for p in q.params:
            assert p.signature() in out


def test_queries_name_documents_one(capsys: pytest.CaptureFixture[str]) -> None:
    q = next(q for q in catalog.catalogue().values() if q.params)
    code, out, _ = run_cli(capsys, "queries", q.name)
    assert code == 0
    assert out.startswith(f"{q.name} ({q.form.upper()}, ")
    assert q.title_fr in out and q.title_en in out
    assert all(p.signature() in out for p in q.params)


def test_queries_text_is_runnable_elsewhere(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "queries", "sources", "--text")
    assert code == 0
    assert out.startswith("PREFIX cmq: <https://w3id.org/cmq/def#>\n")
    assert out.endswith(catalog.catalogue()["sources"].text)


def test_queries_check_passes_on_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "queries", "--check")
    assert (code, err) == (0, "")
    assert out == f"OK: {len(catalog.catalogue())} queries\n"


def test_unknown_query_name_lists_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "query", "campus-member", "--store", "/nonexistent")
    assert code == 5
    assert out == ""
    assert "unknown query 'campus-member'; did you mean: campus-members?" in err
    assert "the catalogue has: " in err and "sources" in err


# -- running --------------------------------------------------------------------------------


def test_table_has_labels_and_compact_iris(capsys, mini_root: Path, members_file: Path) -> None:
    code, out, _ = run_cli(capsys, "query", str(members_file), "--store", str(mini_root))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["campus", "member", "role", "name"]
    assert lines[2].split("  ")[:3] == [
        "Campus Un (id:campus/c1)",
        "Lycée X (id:organisation/lycee-x)",
        "pilote (vocab:role/pilote)",
    ]
    assert lines[-1] == "(1 row)"


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "md"])
def test_tabular_formats(capsys, mini_root: Path, members_file: Path, fmt: str) -> None:
    code, out, _ = run_cli(capsys, "query", str(members_file), "--store", str(mini_root), "--format", fmt)
    assert code == 0
    campus, lycee, pilote = (
        f"{ID}campus/c1",
        f"{ID}organisation/lycee-x",
        "https://w3id.org/cmq/vocab/role/pilote",
    )
    if fmt == "csv":
        assert list(csv.reader(io.StringIO(out))) == [
            ["campus", "member", "role", "name"],
            [campus, lycee, pilote, ""],
        ]
    elif fmt == "tsv":
        assert out.splitlines() == [
            "?campus\t?member\t?role\t?name",
            f'<{campus}>\t<{lycee}>\t<{pilote}>\t""',
        ]
    elif fmt == "json":
        doc = json.loads(out)
        assert doc["head"]["vars"] == ["campus", "member", "role", "name"]
        assert doc["results"]["bindings"] == [
            {
                "campus": {"type": "uri", "value": campus},
                "member": {"type": "uri", "value": lycee},
                "role": {"type": "uri", "value": pilote},
                "name": {"type": "literal", "value": ""},
            }
        ]
    else:
        assert out.splitlines()[2] == (
            "| Campus Un (id:campus/c1) | Lycée X (id:organisation/lycee-x) | pilote (vocab:role/pilote) |  |"
        )


def test_params_are_bound_and_checked(capsys, mini_root: Path, members_file: Path) -> None:
    store = ["--store", str(mini_root)]
    code, out, _ = run_cli(
        capsys, "query", str(members_file), *store, "-p", "campus=id:campus/nope", "-f", "csv"
    )
    assert (code, out) == (0, "campus,member,role,name\r\n")
    code, out, err = run_cli(capsys, "query", str(members_file), *store, "-p", "campuss=id:campus/c1")
    assert code == 5
    assert "unknown parameter 'campuss'; its parameters are: ?campus iri = id:campus/c1, ?name string" in err
    code, out, err = run_cli(capsys, "query", str(members_file), *store, "-p", "campus")
    assert code == 5 and "--param 'campus': expected name=value" in err


@pytest.mark.parametrize("value", ['"} ; DROP ALL', "x' } ; DROP ALL #", "{ ?s ?p ?o }"])
def test_injected_text_stays_a_literal(capsys, mini_root: Path, members_file: Path, value: str) -> None:
    code, out, _ = run_cli(
        capsys, "query", str(members_file), "--store", str(mini_root), "-p", f"name={value}", "-f", "json"
    )
    assert code == 0
    (row,) = json.loads(out)["results"]["bindings"]
    assert row["name"] == {"type": "literal", "value": value}
    # An IRI parameter does not accept it at all.
    code, _, err = run_cli(
        capsys, "query", str(members_file), "--store", str(mini_root), "-p", f"campus={value}"
    )
    assert code == 5 and "parameter 'campus'" in err


def test_construct_formats(capsys, mini_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.rq"
    path.write_text("CONSTRUCT { ?c a cmq:Campus ; rdfs:label ?l } WHERE { ?c a cmq:Campus ; rdfs:label ?l }")
    graphs = []
    for fmt, rdflib_fmt in (("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")):
        code, out, _ = run_cli(capsys, "query", str(path), "--store", str(mini_root), "-f", fmt)
        assert code == 0
        graphs.append(Graph().parse(data=out, format=rdflib_fmt))
    assert len(graphs[0]) == 2
    assert (URIRef(f"{ID}campus/c1"), None, None) in graphs[0]
    assert all(set(g) == set(graphs[0]) for g in graphs)
    code, _, err = run_cli(capsys, "query", str(path), "--store", str(mini_root), "-f", "csv")
    assert code == 5 and "use --format ttl|nt|jsonld, not csv" in err


def test_ask(capsys, mini_root: Path) -> None:
    for text, answer in (("ASK { ?c a cmq:Campus }", "yes"), ("ASK { ?c a cmq:Nothing }", "no")):
        code, out, _ = run_cli(capsys, "query", text, "--store", str(mini_root))
        assert (code, out) == (0, answer + "\n")


def test_limit(capsys, mini_root: Path) -> None:
    text = "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s"
    code, out, _ = run_cli(capsys, "query", text, "--store", str(mini_root), "--limit", "3")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2 + 3 + 1
    assert lines[-1] == "(first 3 rows shown; there are more)"
    code, out, err = run_cli(capsys, "query", text, "--store", str(mini_root), "--limit", "2", "-f", "csv")
    assert len(out.splitlines()) == 3 and "first 2 rows (there are more)" in err


def test_stdin_and_syntax_error(mini_root: Path) -> None:
    ok = subprocess.run(
        [*CLI, "query", "-", "--store", str(mini_root), "-f", "csv"],
        input="SELECT (COUNT(?c) AS ?n) WHERE { ?c a cmq:Campus }",
        capture_output=True,
        text=True,
        check=False,
    )
    assert (ok.returncode, ok.stdout) == (0, "n\n1\n")  # text mode reads CRLF as LF
    bad = subprocess.run(
        [*CLI, "query", "-", "--store", str(mini_root)],
        input="SELECT ?c WHERE {\n  ?c a cmq:Campus .\n  FILTER(?c = )\n}\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 5
    assert bad.stdout == ""
    assert bad.stderr.startswith("cmq-graph: <stdin>, line 3, column 3: SPARQL syntax error")
    assert "  3 |   FILTER(?c = )" in bad.stderr


def test_timeout_stops_in_time(mini_root: Path) -> None:
    """A run-away query ends with a clear error at the deadline (its worker process is killed:
    tests/test_stoppable.py measures its CPU)."""
    heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
    done = subprocess.run(
        [*CLI, "query", heavy, "--store", str(mini_root), "--timeout", "0.5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 5
    assert done.stderr.strip().endswith("cmq-graph: query timed out after 0.5 s (stopped)")


def test_missing_store_is_a_clear_error(capsys, tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "query", "sources", "--store", str(tmp_path / "none"))
    assert code == 4 and "run `cmq-graph build` first" in err


def test_endpoint_without_remote_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cmq_graph.remote", None)
    with pytest.raises(CmqError, match="remote endpoints are not available"):
        query_commands.open_remote("http://localhost:8890/sparql")


def test_endpoint_is_handed_to_the_remote_store(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    class FakeRemote:
        def __init__(self, url: str, **kw: object):
            seen.update(url=url, **kw)

    import types

    module = types.ModuleType("cmq_graph.remote")
    module.RemoteStore = FakeRemote  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cmq_graph.remote", module)
    query_commands.open_remote("http://example.org/sparql", timeout=7.0)
    assert seen == {"url": "http://example.org/sparql", "timeout": 7.0}


# -- the curated graph: the same answers through the CLI and the API ---------------------------


def _term(binding: dict[str, str]):
    from rdflib import BNode, Literal

    if binding["type"] == "uri":
        return URIRef(binding["value"])
    if binding["type"] == "bnode":
        return BNode(binding["value"])
    if "xml:lang" in binding:
        return Literal(binding["value"], lang=binding["xml:lang"])
    return Literal(binding["value"], datatype=binding.get("datatype"))


def _from_cli(out: str, form: str):
    from cmq_graph.store import QueryResult

    if form in {"construct", "describe"}:
        return QueryResult("graph", graph=Graph().parse(data=out, format="nt"))
    doc = json.loads(out)
    if "boolean" in doc:
        return QueryResult("ask", boolean=doc["boolean"])
    variables = doc["head"]["vars"]
    rows = [tuple(_term(b[v]) if v in b else None for v in variables) for b in doc["results"]["bindings"]]
    return QueryResult("select", variables=variables, rows=rows)


@pytest.mark.parametrize("name", sorted(catalog.catalogue()))
def test_cli_and_api_agree_on_the_curated_graph(capsys, name: str, store_root: Path, store) -> None:
    from cmq_graph import api

    q = catalog.catalogue()[name]
    if any(p.required for p in q.params):
        pytest.skip(f"{name} has a required parameter")
    fmt = "nt" if q.form in {"construct", "describe"} else "json"
    code, out, err = run_cli(capsys, "query", name, "--store", str(store_root), "--format", fmt)
    assert (code, err) == (0, "")
    assert catalog.comparable(_from_cli(out, q.form)) == catalog.comparable(api.run(store, name))

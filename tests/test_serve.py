"""``cmq-graph serve`` as a real process: the SPARQL 1.1 Protocol, its formats, errors and limits.

Answers are read back by independent parsers (pyoxigraph, rdflib, csv) and compared with the
embedded store's own answers to the same queries.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from serve_helpers import Served, cmdline, cpu_seconds, descendants, serve, tree_cpu

from cmq_graph import paths
from cmq_graph.build import build
from cmq_graph.namespaces import PREFIXES
from cmq_graph.store import EmbeddedStore, activate, materialise_union, write_generation

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
CAMPUSES = "SELECT ?c ?l WHERE { ?c a cmq:Campus ; rdfs:label ?l } ORDER BY ?c ?l"
# A cartesian product far longer than any time limit of these tests.
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
          method: str | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def get(served: Served, query: str, accept: str | None = None, **params: str):
    qs = urllib.parse.urlencode({"query": query, **params})
    return fetch(f"{served.endpoint}?{qs}", headers={"Accept": accept} if accept else {})


def post_form(served: Served, query: str, accept: str | None = None, **params: str):
    body = urllib.parse.urlencode({"query": query, **params}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if accept:
        headers["Accept"] = accept
    return fetch(served.endpoint, body, headers)


def post_direct(served: Served, query: str, accept: str | None = None, qs: str = ""):
    headers = {"Content-Type": "application/sparql-query"}
    if accept:
        headers["Accept"] = accept
    return fetch(served.endpoint + (f"?{qs}" if qs else ""), query.encode(), headers)


@pytest.fixture(scope="module")
def served(store_root: Path) -> Iterator[Served]:
    with serve(store_root, "--workers", "2") as s:
        yield s


@pytest.fixture(scope="module")
def embedded(store_root: Path) -> EmbeddedStore:
    return EmbeddedStore.open(store_root)


def rows_json(body: bytes) -> list[tuple[str, ...]]:
    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    names = [v.value for v in parsed.variables]
    return [tuple(str(s[n]) for n in names) for s in parsed]


def embedded_answer(embedded: EmbeddedStore, query: str):
    """The embedded store's own answer: its default graph is the build's materialised union
    (each triple once), or Oxigraph's union where a store has none."""
    return embedded.oxigraph.query(query, use_default_graph_as_union=not embedded.union_materialised,
                                   prefixes=PREFIXES)


def expected_rows(embedded: EmbeddedStore, query: str) -> list[tuple[str, ...]]:
    result = embedded_answer(embedded, query)
    names = [v.value for v in result.variables]
    return [tuple(str(s[n]) for n in names) for s in result]


# -- the three ways of asking ----------------------------------------------------------------


@pytest.mark.parametrize("how", [get, post_form, post_direct])
def test_query_by_get_form_and_direct_post_answers_as_embedded(served, embedded, how):
    status, headers, body = how(served, CAMPUSES)
    assert status == 200, body
    assert headers["content-type"].startswith("application/sparql-results+json")
    rows = rows_json(body)
    assert rows and rows == expected_rows(embedded, CAMPUSES)


def test_default_graph_is_the_union_of_the_sources_as_embedded(served, embedded):
    status, _h, body = get(served, COUNT)
    assert status == 200
    assert rows_json(body) == expected_rows(embedded, COUNT)
    # ... and that is the union of the sources' named graphs, each triple once.
    distinct = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
    assert rows_json(body) == [tuple(str(s["n"]) for s in embedded.oxigraph.query(distinct))]


def test_default_graph_uri_and_named_graph_uri_choose_the_dataset(served, embedded):
    biggest = ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
               "GROUP BY ?g ORDER BY DESC(?n) LIMIT 1")
    one = next(iter(embedded.oxigraph.query(biggest)))["g"].value
    count_one = len(list(embedded.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(one))))
    for how in (get, post_form):
        status, _h, body = how(served, COUNT, **{"default-graph-uri": one})
        assert status == 200, body
        assert rows_json(body)[0][0] == f'"{count_one}"^^<http://www.w3.org/2001/XMLSchema#integer>'
    status, _h, body = post_direct(served, COUNT, qs=urllib.parse.urlencode({"default-graph-uri": one}))
    assert rows_json(body)[0][0].startswith(f'"{count_one}"')
    # named-graph-uri alone: an empty default graph, GRAPH sees only the graphs named.
    named = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    status, _h, body = get(served, named, **{"named-graph-uri": one})
    assert rows_json(body) == [(f"<{one}>",)]
    status, _h, body = get(served, COUNT, **{"named-graph-uri": one})
    assert rows_json(body)[0][0].startswith('"0"')
    # FROM in the query names its own default graph (Oxigraph's union flag would override it).
    status, _h, body = get(served, f"SELECT (COUNT(*) AS ?n) FROM <{one}> WHERE {{ ?s ?p ?o }}")
    assert rows_json(body)[0][0].startswith(f'"{count_one}"')


# -- formats -----------------------------------------------------------------------------------

SELECT_FORMATS = [
    ("application/sparql-results+json", "application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ("application/json", "application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ("application/sparql-results+xml", "application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ("application/xml", "application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ("text/csv", "text/csv", ox.QueryResultsFormat.CSV),
    ("text/tab-separated-values", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
    ("text/html;q=0.9, text/csv;q=0.5", "text/csv", ox.QueryResultsFormat.CSV),
    ("*/*", "application/sparql-results+json", ox.QueryResultsFormat.JSON),
]


@pytest.mark.parametrize(("accept", "media", "fmt"), SELECT_FORMATS)
def test_select_in_each_results_format(served, embedded, accept, media, fmt):
    status, headers, body = get(served, CAMPUSES, accept)
    assert status == 200, body
    assert headers["content-type"].split(";")[0] == media
    expected = expected_rows(embedded, CAMPUSES)
    if fmt == ox.QueryResultsFormat.CSV:
        rows = list(csv.reader(io.StringIO(body.decode())))
        assert rows[0] == ["c", "l"] and len(rows) - 1 == len(expected)
        assert [r[0] for r in rows[1:]] == [e[0].strip("<>") for e in expected]
        return
    parsed = ox.parse_query_results(body, format=fmt)
    names = [v.value for v in parsed.variables]
    assert [tuple(str(s[n]) for n in names) for s in parsed] == expected


@pytest.mark.parametrize("accept", SELECT_FORMATS[::2])
def test_ask_in_each_results_format(served, accept):
    status, _h, body = get(served, "ASK { ?c a cmq:Campus }", accept[0])
    assert status == 200
    assert b"true" in body
    status, _h, body = get(served, "ASK { ?c a cmq:NoSuchClass }", accept[0])
    assert b"false" in body


GRAPH_FORMATS = [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("text/plain", "application/n-triples", "nt"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("application/xml", "application/rdf+xml", "xml"),
    ("*/*", "text/turtle", "turtle"),
]
CONSTRUCT = "CONSTRUCT { ?c ?p ?o } WHERE { ?c a cmq:Campus ; ?p ?o }"


def expected_graph(embedded: EmbeddedStore, query: str) -> rdflib.Graph:
    answer = embedded_answer(embedded, query)
    return rdflib.Graph().parse(data=answer.serialize(format=ox.RdfFormat.N_TRIPLES), format="nt")


@pytest.mark.parametrize(("accept", "media", "rdflib_format"), GRAPH_FORMATS)
def test_construct_in_each_graph_format(served, embedded, accept, media, rdflib_format):
    status, headers, body = get(served, CONSTRUCT, accept)
    assert status == 200, body
    assert headers["content-type"].split(";")[0] == media
    graph = rdflib.Graph().parse(data=body, format=rdflib_format)
    expected = expected_graph(embedded, CONSTRUCT)
    assert len(graph) == len(expected) > 0
    assert isomorphic(graph, expected)


@pytest.mark.parametrize(("fmt", "media"), [
    ("json", "application/sparql-results+json"), ("xml", "application/sparql-results+xml"),
    ("csv", "text/csv"), ("tsv", "text/tab-separated-values"), ("text/csv", "text/csv"),
])
def test_format_parameter_overrides_accept(served, fmt, media):
    status, headers, _b = get(served, CAMPUSES, "application/sparql-results+xml", format=fmt)
    assert status == 200
    assert headers["content-type"].split(";")[0] == media


@pytest.mark.parametrize(("fmt", "media"), [
    ("turtle", "text/turtle"), ("nt", "application/n-triples"), ("jsonld", "application/ld+json"),
    ("rdfxml", "application/rdf+xml"),
])
def test_format_parameter_for_graphs(served, fmt, media):
    status, headers, _b = get(served, CONSTRUCT, format=fmt)
    assert status == 200
    assert headers["content-type"].split(";")[0] == media


def test_service_description_at_the_endpoint_without_query(served):
    for accept, fmt in [("text/turtle", "turtle"), ("application/rdf+xml", "xml"),
                        ("application/ld+json", "json-ld"), (None, "turtle")]:
        status, headers, body = fetch(served.endpoint, headers={"Accept": accept} if accept else {})
        assert status == 200
        g = rdflib.Graph().parse(data=body, format=fmt)
        sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
        service = rdflib.URIRef(served.endpoint)
        assert (service, rdflib.RDF.type, sd.Service) in g
        assert (service, sd.endpoint, service) in g
        assert (service, sd.supportedLanguage, sd.SPARQL11Query) in g
        assert (service, sd.feature, sd.UnionDefaultGraph) in g
        assert len(set(g.objects(service, sd.resultFormat))) == 8
    # A browser gets the query page.
    status, headers, body = fetch(served.endpoint, headers={"Accept": "text/html,*/*;q=0.8"})
    assert status == 200 and headers["content-type"].startswith("text/html") and b"yasgui" in body


def test_cors(served):
    status, headers, _b = fetch(served.endpoint + "?query=ASK%7B%7D", headers={"Origin": "http://example.org"})
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    assert "x-cmq-truncated" in headers["access-control-expose-headers"].lower()
    status, headers, _b = fetch(served.endpoint, method="OPTIONS", headers={
        "Origin": "http://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert status == 200
    assert "POST" in headers["access-control-allow-methods"]


# -- refusals ----------------------------------------------------------------------------------


def test_errors_are_clear_4xx(served):
    status, headers, body = get(served, "SELEKT * WHERE { ?s ?p ?o }")
    assert status == 400 and b"syntax error" in body and headers["content-type"].startswith("text/plain")
    for status, _h, body in [
        get(served, "INSERT DATA { <http://a> <http://b> <http://c> }"),
        post_form(served, "DELETE WHERE { ?s ?p ?o }"),
        fetch(served.endpoint, urllib.parse.urlencode({"update": "CLEAR ALL"}).encode(),
              {"Content-Type": "application/x-www-form-urlencoded"}),
        fetch(served.endpoint, b"CLEAR ALL", {"Content-Type": "application/sparql-update"}),
        fetch(served.endpoint + "?update=CLEAR%20ALL"),
    ]:
        assert status == 403 and b"read-only" in body, body
    status, headers, _b = fetch(served.endpoint, b"x", method="PUT")
    assert status == 405 and "GET" in headers["allow"]
    status, _h, body = fetch(served.endpoint, b"query=ASK{}", {"Content-Type": "text/plain"})
    assert status == 415 and b"Content-Type" in body
    status, _h, body = get(served, CAMPUSES, "image/png")
    assert status == 406
    status, _h, body = get(served, CONSTRUCT, "text/csv")
    assert status == 406 and b"Turtle" in body
    status, _h, body = get(served, CAMPUSES, format="pdf")
    assert status == 406 and b"pdf" in body
    status, _h, body = fetch(f"{served.endpoint}?query=ASK%7B%7D&query=ASK%7B%7D")
    assert status == 400 and b"once" in body
    status, _h, body = get(served, "ASK {}", **{"default-graph-uri": "not an iri"})
    assert status == 400
    status, _h, body = post_form(served, "   ")
    assert status == 400
    big = "# " + "x" * (2 * 1024 * 1024) + "\nASK {}"
    status, _h, body = post_direct(served, big)
    assert status == 413
    status, _h, body = post_form(served, big)
    assert status == 413


# -- limits, with a server of small limits -----------------------------------------------------


@pytest.fixture(scope="module")
def tight(store_root: Path) -> Iterator[Served]:
    with serve(store_root, "--workers", "2", "--timeout", "1", "--max-rows", "5") as s:
        yield s


def test_result_size_limit_truncates_and_says_so(tight, embedded):
    assert len(expected_rows(embedded, CAMPUSES)) > 5
    for accept in ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                   "text/tab-separated-values"):
        status, headers, body = get(tight, CAMPUSES, accept)
        assert status == 200
        assert headers["x-cmq-truncated"] == "5"
        if accept.endswith("json"):
            assert rows_json(body) == expected_rows(embedded, CAMPUSES)[:5]
    status, headers, body = get(tight, CONSTRUCT, "text/turtle")
    assert headers["x-cmq-truncated"] == "5"
    assert len(rdflib.Graph().parse(data=body, format="turtle")) == 5
    status, headers, body = get(tight, "SELECT ?c WHERE { ?c a cmq:Campus } LIMIT 5")
    assert status == 200 and "x-cmq-truncated" not in headers


def test_time_limit_really_stops_the_query(tight):
    before = set(tight.workers())
    assert len(before) == 2
    started = time.monotonic()
    status, _h, body = get(tight, ENDLESS)
    elapsed = time.monotonic() - started
    assert status == 503 and b"time limit" in body
    assert elapsed < 5
    # The worker that ran it was killed and replaced; within a second the server and its workers
    # are idle (the query is not running on, as a thread of the embedded store would).
    time.sleep(1.0)
    after = set(tight.workers())
    assert len(after) == 2 and after != before
    for pid in before - after:
        assert cpu_seconds(pid) == 0.0  # gone
    spent = tree_cpu(tight.proc.pid)
    time.sleep(1.0)
    assert tree_cpu(tight.proc.pid) - spent < 0.2
    status, _h, body = get(tight, COUNT)
    assert status == 200


def test_queries_run_on_both_workers_at_once(tight):
    """Two long queries at once each get a worker: both workers burn CPU in the same second."""
    workers = tight.workers()
    spent = {p: cpu_seconds(p) for p in workers}
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(get(tight, ENDLESS)[0])) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.8)
    busy = {p: cpu_seconds(p) - spent[p] for p in workers}
    for t in threads:
        t.join()
    assert results == [503, 503]
    # Both ran in the same window (the machine is shared, so only "some CPU each" is asked).
    assert all(v >= 0.03 for v in busy.values()), busy


def count_of(body: bytes) -> int:
    return int(next(iter(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)))["n"].value)


def test_a_new_build_is_served_without_restart(tmp_path):
    root = tmp_path / "store"
    build(paths.DATA_DIR, paths.ONTOLOGY_DIR, root, validate=False, say=lambda _m: None)
    with serve(root, "--workers", "2") as s:
        before = count_of(get(s, COUNT)[2])
        with EmbeddedStore.open(root) as old:
            quads = list(old.quads())
        extra = ox.Quad(ox.NamedNode("https://w3id.org/cmq/id/test/new"), ox.NamedNode(
            "http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal("nouvelle version"),
            ox.NamedNode("https://w3id.org/cmq/graph/test"))
        generation = write_generation(root, [*quads, extra])
        made = ox.Store(str(generation))  # as a build makes it: the union in the default graph
        materialise_union(made)
        made.flush()
        del made
        activate(root, generation)
        for _ in range(2):  # each worker reopens the live generation
            status, _h, body = get(s, COUNT)
            assert status == 200
            after = count_of(body)
            assert after == before + 1
        status, _h, body = get(s, 'ASK { ?s rdfs:label "nouvelle version" }')
        assert b"true" in body


def test_unknown_path_is_404(served):
    status, _h, _b = fetch(served.base + "/no-such-thing-here/at-all")
    assert status == 404


def test_query_page_and_its_assets_are_served(served):
    status, headers, body = fetch(served.base + "/query")
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = body.decode()
    assert 'src="static/yasgui.min.js"' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing from elsewhere
    for asset in ("yasgui.min.js", "yasgui.min.css", "LICENSE-yasgui.txt"):
        status, _h, body = fetch(served.base + "/static/" + asset)
        assert status == 200 and len(body) > 1000
    assert fetch(served.base + "/static/../server.py")[0] == 404
    embedded_json = page.split('<script id="cmq-examples" type="application/json">')[1]
    data = json.loads(embedded_json.split("</script>")[0])
    assert "campus-members" in data["queries"]
    assert data["prefixes"]["cmq"] == "https://w3id.org/cmq/def#"


def test_several_http_processes_share_the_port(store_root, embedded):
    """--http-processes 2: Granian runs two HTTP processes on one port, each with its workers."""
    with serve(store_root, "--http-processes", "2", "--workers", "1") as s:
        for _ in range(6):
            status, _h, body = post_form(s, CAMPUSES)
            assert status == 200 and rows_json(body) == expected_rows(embedded, CAMPUSES)
        http = [p for p in descendants(s.proc.pid) if "forkserver" not in cmdline(p)
                and "resource_tracker" not in cmdline(p)]
        assert len(http) >= 2, http

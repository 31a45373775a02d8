"""Real clients against ``cmq-graph serve``: SPARQLWrapper, rdflib's SPARQLStore, Raptor's rapper.

rapper (an independent C parser) reads every RDF format the endpoint serves that Raptor knows
(Turtle, N-Triples, RDF/XML) and must count the statements Oxigraph's parser counts; JSON-LD,
which Raptor does not read, is checked by rdflib and pyoxigraph.
"""

from __future__ import annotations

import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import require_program
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from serve_helpers import Served, serve
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from cmq_graph.namespaces import PREFIXES
from cmq_graph.store import EmbeddedStore

CMQ = rdflib.Namespace(PREFIXES["cmq"])
CAMPUSES = "SELECT ?c ?l WHERE { ?c a cmq:Campus ; rdfs:label ?l } ORDER BY ?c ?l"
CONSTRUCT = "CONSTRUCT { ?c ?p ?o } WHERE { ?c a cmq:Campus ; ?p ?o }"


@pytest.fixture(scope="module")
def served(store_root: Path) -> Iterator[Served]:
    with serve(store_root) as s:
        yield s


@pytest.fixture(scope="module")
def embedded(store_root: Path) -> EmbeddedStore:
    return EmbeddedStore.open(store_root)


def embedded_campuses(embedded: EmbeddedStore) -> list[tuple[str, str]]:
    return [(str(c), str(label)) for c, label in embedded.query(CAMPUSES).rows]


def test_sparqlwrapper_get_and_post_in_each_format(served, embedded):
    expected = embedded_campuses(embedded)
    for method in ("GET", "POST"):
        sw = SPARQLWrapper(served.endpoint)
        sw.setMethod(method)
        sw.setQuery(CAMPUSES)
        sw.setReturnFormat(JSON)
        bindings = sw.query().convert()["results"]["bindings"]
        assert [(b["c"]["value"], b["l"]["value"]) for b in bindings] == expected
        sw.setReturnFormat(XML)
        doc = sw.query().convert()
        assert len(doc.getElementsByTagName("result")) == len(expected)
        sw.setReturnFormat(CSV)
        assert sw.query().convert().decode().count("\n") == len(expected) + 1
    sw = SPARQLWrapper(served.endpoint)
    sw.setQuery(CONSTRUCT)
    sw.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=sw.query().convert(), format="turtle")
    assert len(graph) == len(embedded.query(CONSTRUCT).graph)
    sw.setQuery("ASK { ?c a cmq:Campus }")
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["boolean"] is True


def test_rdflib_sparqlstore(served, embedded):
    store = SPARQLStore(served.endpoint, returnFormat="json")
    graph = rdflib.Graph(store=store)
    rows = [(str(c), str(label)) for c, label in graph.query(CAMPUSES, initNs=PREFIXES)]
    assert rows == embedded_campuses(embedded)
    campus = rdflib.URIRef(rows[0][0])
    assert (campus, rdflib.RDF.type, CMQ.Campus) in graph
    labels = {str(label) for label in graph.objects(campus, rdflib.RDFS.label)}
    assert labels == {label for c, label in rows if c == str(campus)}
    # Bindings go through the query (rdflib writes them as VALUES): the same answer as embedded.
    bound = graph.query("SELECT ?l WHERE { ?c rdfs:label ?l }", initNs=PREFIXES,
                        initBindings={"c": campus})
    assert {str(r[0]) for r in bound} == {label for c, label in rows if c == str(campus)}


@pytest.mark.parametrize(("accept", "rapper_name", "ox_format"), [
    ("text/turtle", "turtle", ox.RdfFormat.TURTLE),
    ("application/n-triples", "ntriples", ox.RdfFormat.N_TRIPLES),
    ("application/rdf+xml", "rdfxml", ox.RdfFormat.RDF_XML),
])
def test_rapper_parses_every_rdf_format(served, tmp_path, accept, rapper_name, ox_format):
    rapper = require_program("rapper")
    bodies = {}
    qs = urllib.parse.urlencode({"query": CONSTRUCT})
    for name, url in [("construct", f"{served.endpoint}?{qs}"),
                      ("describe", f"{served.endpoint}?" + urllib.parse.urlencode(
                          {"query": "DESCRIBE ?c WHERE { ?c a cmq:Campus }"})),
                      ("service-description", served.endpoint)]:
        req = urllib.request.Request(url, headers={"Accept": accept})
        with urllib.request.urlopen(req, timeout=60) as r:
            assert r.headers["Content-Type"].split(";")[0] in (accept, "application/n-triples")
            bodies[name] = r.read()
    for name, body in bodies.items():
        path = tmp_path / f"{name}.{rapper_name}"
        path.write_bytes(body)
        done = subprocess.run([rapper, "-i", rapper_name, "-c", str(path), "http://example.org/base"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "Error" not in done.stderr, done.stderr
        counted = int(done.stderr.split("returned")[1].split()[0])
        # Statements as written (a CONSTRUCT may repeat a triple; rdflib would fold them).
        assert counted == len(list(ox.parse(body, format=ox_format))) > 0


def test_jsonld_is_read_by_two_parsers(served):
    qs = urllib.parse.urlencode({"query": CONSTRUCT})
    req = urllib.request.Request(f"{served.endpoint}?{qs}", headers={"Accept": "application/ld+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read()
    by_rdflib = rdflib.Graph().parse(data=body, format="json-ld")
    by_oxigraph = list(ox.parse(body, format=ox.RdfFormat.JSON_LD))
    assert len(by_rdflib) == len(by_oxigraph) > 0

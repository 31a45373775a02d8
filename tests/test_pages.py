"""Every IRI resolves: 303 to a document chosen by Accept, HTML pages with their sources, RDF
documents in four syntaxes, hostile labels escaped (``resource_response``, no server needed)."""

from __future__ import annotations

import json

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF
from test_pages_hostile import EVIL, JS_URL, SOURCE_A, SOURCE_B, XSS_IMG, XSS_SCRIPT, audit, hostile_store

from cmq_graph.namespaces import BASE, CMQ
from cmq_graph.web.resources import BASE_PATH, local_path, negotiate, resource_response


@pytest.fixture(scope="module")
def hostile():
    return hostile_store()


def _rel(iri: str) -> str:
    return "/" + iri[len(BASE) :]


def _campus(store) -> str:
    """A campus of the curated graph that has a label (ids are not hard-coded)."""
    rows = store.query("SELECT ?c WHERE { ?c a cmq:Campus ; rdfs:label ?l } ORDER BY ?c LIMIT 1").rows
    return str(rows[0][0])


@pytest.mark.parametrize(
    ("accept", "ext"),
    [
        ("text/html", "html"),
        ("", "html"),
        ("*/*", "html"),
        ("text/turtle", "ttl"),
        ("application/ld+json", "jsonld"),
        ("application/n-triples", "nt"),
        ("application/rdf+xml", "rdf"),
        ("application/trig", "trig"),
        ("text/html;q=0.5, text/turtle;q=0.9", "ttl"),
        ("application/rdf+xml;q=0.2, text/html", "html"),
        ("image/png", "html"),
    ],
)
def test_thing_iri_303_to_document_by_accept(store, accept, ext):
    campus = _campus(store)
    status, headers, _body = resource_response(store, _rel(campus), accept, {})
    assert status == 303
    assert headers["Location"] == campus.rsplit("/", 1)[-1] + "." + ext
    assert headers["Vary"] == "Accept"
    assert negotiate(accept) == ext


def test_paths_with_or_without_the_base_path(store):
    """A server at the host's root and one behind the base's path (/cmq/) answer alike."""
    campus = _campus(store)
    rel = campus[len(BASE) :]
    assert local_path("/" + rel) == rel
    assert local_path(BASE_PATH + rel + "?lang=en") == rel
    for path in ("/" + rel + ".ttl", BASE_PATH + rel + ".ttl"):
        status, _h, body = resource_response(store, path, "", {})
        assert status == 200
        assert (URIRef(campus), None, None) in Graph().parse(data=body, format="turtle")


@pytest.mark.parametrize("fmt", ["ttl", "nt", "rdf", "jsonld", "trig"])
def test_rdf_documents_parse_and_hold_the_statements(store, fmt):
    campus = _campus(store)
    status, _headers, body = resource_response(store, _rel(campus) + "." + fmt, "", {})
    assert status == 200
    expected = store.query("SELECT ?c ?p ?o WHERE { ?c ?p ?o }", {"c": URIRef(campus)}).rows
    if fmt == "trig":
        ds = Dataset()
        ds.parse(data=body, format="trig")
        graphs = {str(g) for _s, _p, _o, g in ds.quads((URIRef(campus), None, None, None))}
        # Every graph stating something about the campus is kept, sources included.
        assert any("/id/source/" in g for g in graphs)
        got = {(p, o) for _s, p, o, _g in ds.quads((URIRef(campus), None, None, None))}
    else:
        rdflib_format = {"ttl": "turtle", "nt": "nt", "rdf": "xml", "jsonld": "json-ld"}[fmt]
        g = Graph()
        g.parse(data=body, format=rdflib_format)
        got = set(g.predicate_objects(URIRef(campus)))
    assert {(p, o) for _c, p, o in expected} <= got
    if fmt == "jsonld":
        doc = json.loads(body)
        assert doc["@context"]["cmq"] == str(CMQ)


def test_campus_page_groups_statements_with_their_sources(store):
    campus = _campus(store)
    status, headers, body = resource_response(store, _rel(campus) + ".html", "", {})
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    html = body.decode()
    label = store.query(
        "SELECT ?c ?l WHERE { ?c rdfs:label ?l FILTER(LANG(?l) = 'fr') }", {"c": URIRef(campus)}
    )
    assert str(label.rows[0][1]).replace("'", "&#39;") in html
    sources = store.query(
        "SELECT DISTINCT ?c ?title WHERE { GRAPH ?g { ?c ?p ?o } ?g a cmq:Source ; dcterms:title ?title }",
        {"c": URIRef(campus)},
    ).rows
    assert sources
    for _c, title in sources:
        assert str(title).replace("'", "&#39;") in html
    assert "selon" in html and 'lang="fr"' in html
    en = resource_response(store, _rel(campus) + ".en.html", "", {})[2].decode()
    assert "according to" in en and 'lang="en"' in en
    assert resource_response(store, _rel(campus) + ".html", "", {"lang": "en"})[2].decode() == en


def test_conflicting_values_side_by_side(hostile):
    html = resource_response(hostile, _rel(EVIL) + ".html", "", {})[2].decode()
    assert html.count('class="disputed"') == 1
    row = html.split('class="disputed"', 1)[1].split("</tr>", 1)[0]
    assert "2019-01-01" in row and "2020-06-30" in row
    assert "Source B" in row and "publié le 2021-02-03" in row
    assert SOURCE_B.rsplit("/", 1)[-1] + ".html" in row and SOURCE_A.rsplit("/", 1)[-1] + ".html" in row


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_hostile_labels_are_text(hostile, lang):
    for path in (_rel(EVIL) + ".html", _rel(SOURCE_A) + ".html", "/index.html", "/dataset.html"):
        status, _h, body = resource_response(hostile, path, "", {"lang": lang})
        assert status == 200, path
        html = body.decode()
        found = audit(html)
        assert found.scripts == 0, path
        assert found.handlers == [], path
        assert found.bad_links == [], path
        assert JS_URL not in " ".join(found.links)
        if path.startswith("/id/campus"):
            text = "".join(found.text)
            # The hostile strings are shown as they are, as text.
            assert XSS_IMG in text and (XSS_SCRIPT in text or lang == "en")
            assert JS_URL in text


def test_unknown_and_malformed_paths_are_404(store):
    for path in (
        "/id/campus/does-not-exist",
        "/id/campus/does-not-exist.ttl",
        "/id/../../etc/passwd",
        "/nothing",
        "/id/campus/%3Cscript%3E.html",
    ):
        status, _headers, body = resource_response(store, path, "text/html", {})
        assert status == 404, path
        assert b"<script" not in body


def test_every_iri_kind_resolves(store):
    """id/…, def#…, vocab/… and graph/… IRIs all have a document."""
    rows = store.query(
        "SELECT ?scheme ?concept ?g WHERE { ?concept skos:inScheme ?scheme . "
        "?sub <http://www.w3.org/ns/sparql-service-description#name> ?g . ?g a cmq:Source } LIMIT 1"
    ).rows
    scheme, concept, graph = (str(x) for x in rows[0])
    subset = store.query(
        "SELECT ?g ?s WHERE { ?s <http://www.w3.org/ns/sparql-service-description#name> ?g }",
        {"g": URIRef(graph)},
    ).rows[0][1]
    for iri in (scheme, concept, str(subset), BASE + "dataset", BASE + "graph/meta", BASE + "graph/entailed"):
        for ext in ("html", "ttl"):
            status, _h, _body = resource_response(store, _rel(iri) + "." + ext, "", {})
            assert status == 200, (iri, ext)
    status, _h, _body = resource_response(store, "/def", "text/turtle", {})
    assert status == 303
    onto = Graph().parse(data=resource_response(store, "/def.ttl", "", {})[2], format="turtle")
    assert (CMQ.Campus, RDF.type, URIRef("http://www.w3.org/2002/07/owl#Class")) in onto
    html = resource_response(store, "/def.html", "", {})[2].decode()
    assert 'id="Campus"' in html and 'id="schemes"' in html

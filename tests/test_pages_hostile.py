"""A small graph with hostile labels and two disagreeing sources, built like the real one.

Shared by the page tests and the static-site tests (``from test_pages_hostile import …``).
"""

from __future__ import annotations

from html.parser import HTMLParser

import pyoxigraph as ox

from cmq_graph import paths
from cmq_graph.namespaces import CMQ, META_GRAPH, entity_iri, source_iri
from cmq_graph.store import EmbeddedStore
from cmq_graph.vocabulary import load_ontology
from cmq_graph.web.void import describe_build

XSS_SCRIPT = "</td><script>alert('label')</script>"
XSS_ATTR = '" onerror="alert(1)" x="'
XSS_IMG = "<img src=x onerror=alert(2)>"
JS_URL = "javascript:alert(3)"

RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCT = "http://purl.org/dc/terms/"
SCHEMA_URL = ox.NamedNode("https://schema.org/url")
XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")

EVIL = entity_iri("campus", "evil")
FRIEND = entity_iri("organisation", "friend")
SOURCE_A = source_iri("evil-a")
SOURCE_B = source_iri("evil-b")


def hostile_quads() -> list[ox.Quad]:
    evil, friend = ox.NamedNode(EVIL), ox.NamedNode(FRIEND)
    a, b, meta = ox.NamedNode(SOURCE_A), ox.NamedNode(SOURCE_B), ox.NamedNode(META_GRAPH)
    campus = ox.NamedNode(str(CMQ.Campus))
    return [
        ox.Quad(evil, RDF_TYPE, campus, a),
        ox.Quad(evil, RDFS_LABEL, ox.Literal(XSS_SCRIPT, language="fr"), a),
        ox.Quad(evil, RDFS_LABEL, ox.Literal(XSS_ATTR, language="en"), b),
        ox.Quad(evil, ox.NamedNode(DCT + "description"), ox.Literal(XSS_IMG, language="fr"), a),
        ox.Quad(evil, SCHEMA_URL, ox.NamedNode(JS_URL), a),
        # The two sources disagree on the creation date.
        ox.Quad(evil, ox.NamedNode(DCT + "created"), ox.Literal("2019-01-01", datatype=XSD_DATE), a),
        ox.Quad(evil, ox.NamedNode(DCT + "created"), ox.Literal("2020-06-30", datatype=XSD_DATE), b),
        ox.Quad(friend, RDF_TYPE, ox.NamedNode(str(CMQ.Association)), a),
        ox.Quad(friend, RDFS_LABEL, ox.Literal(XSS_IMG, language="fr"), a),
        ox.Quad(friend, ox.NamedNode("http://www.w3.org/ns/org#memberOf"), evil, a),
        ox.Quad(a, RDF_TYPE, ox.NamedNode(str(CMQ.Source)), meta),
        ox.Quad(a, ox.NamedNode(DCT + "title"), ox.Literal(XSS_IMG), meta),
        ox.Quad(a, ox.NamedNode(DCT + "publisher"), ox.Literal(XSS_SCRIPT), meta),
        ox.Quad(a, SCHEMA_URL, ox.NamedNode(JS_URL), meta),
        ox.Quad(b, RDF_TYPE, ox.NamedNode(str(CMQ.Source)), meta),
        ox.Quad(b, ox.NamedNode(DCT + "title"), ox.Literal("Source B"), meta),
        ox.Quad(b, ox.NamedNode(DCT + "issued"), ox.Literal("2021-02-03", datatype=XSD_DATE), meta),
    ]


def hostile_store() -> EmbeddedStore:
    """The hostile graph with the real ontology, entailments and VoID, as a build makes them."""
    ontology = load_ontology(paths.ONTOLOGY_DIR, [])
    store = ox.Store()
    store.bulk_extend(ontology.quads)
    store.bulk_extend(hostile_quads())
    describe_build(store)
    return EmbeddedStore(store)


class Audit(HTMLParser):
    """Everything in a page that could run: script elements, event handlers, non-http links."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts = 0
        self.handlers: list[str] = []
        self.bad_links: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed"):
            self.scripts += 1
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}={value}")
            if name in ("href", "src", "action") and value is not None:
                self.links.append(value)
                if value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                    self.bad_links.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def audit(html: str) -> Audit:
    a = Audit()
    a.feed(html)
    a.close()
    return a

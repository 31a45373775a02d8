"""Documentation of the ontology and its SKOS vocabularies, generated from the graph itself.

One page (``def.html``, ``def.en.html``) with an anchor per term, so that a hash IRI such as
``https://w3id.org/cmq/def#Campus`` lands on its entry: labels, definition, super- and
sub-classes (or domain, range and super-properties), then every concept scheme with its
concepts. Written with the same escaping templates as the entity pages. pyLODE 3.3.4 was
tried on this ontology and set aside: its anchors are slugs of the labels
(``#campusdesmtiersetdesqualifications``), so ``def#Campus`` would not land on its entry; it
runs every scheme's title into the page title, and documents no SKOS concept scheme.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from ..namespaces import CMQ, ONTOLOGY_IRI, VOCAB_GRAPH, compact
from ..store import GraphStore
from .pages import _page, href, safe_url
from .resources import document_path

_QUADS = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"

HEADINGS = {
    "fr": {
        "classes": "Classes",
        "properties": "Propriétés",
        "schemes": "Vocabulaires (SKOS)",
        "super": "Sous-classe de",
        "sub": "Classes plus précises",
        "domain": "Domaine",
        "range": "Portée",
        "superprop": "Sous-propriété de",
        "version": "Version",
        "concepts": "Concepts",
        "others": "Autres termes (types de données…)",
    },
    "en": {
        "classes": "Classes",
        "properties": "Properties",
        "schemes": "Vocabularies (SKOS)",
        "super": "Subclass of",
        "sub": "Narrower classes",
        "domain": "Domain",
        "range": "Range",
        "superprop": "Subproperty of",
        "version": "Version",
        "concepts": "Concepts",
        "others": "Other terms (datatypes…)",
    },
}


@dataclass
class Term:
    anchor: str
    iri: str
    label: str
    definition: str
    facts: list[tuple[str, list[tuple[str, str | None]]]] = field(default_factory=list)


def ontology_graph(store: GraphStore) -> Graph:
    """The ontology and vocabulary graphs, merged, as an rdflib graph (a few thousand triples)."""
    g = Graph()
    for name in (ONTOLOGY_IRI, VOCAB_GRAPH):
        for _g, s, p, o in store.query(_QUADS, {"g": URIRef(name)}).rows:
            g.add((s, p, o))  # type: ignore[arg-type]
    return g


def _text(g: Graph, s: URIRef, props: tuple[URIRef, ...], lang: str) -> str:
    values = [o for p in props for o in g.objects(s, p) if isinstance(o, Literal)]
    for want in (lang, "fr", None):
        for v in values:
            if v.language == want:
                return str(v)
    return str(values[0]) if values else ""


_CACHE: weakref.WeakKeyDictionary[object, dict[str, str]] = weakref.WeakKeyDictionary()


def ontology_html(store: GraphStore, lang: str) -> str:
    """The documentation page, at ``def.html`` (``def.en.html`` in English).

    Kept per store object and language (0.6-1.2 s to make): a new build is a new store object.
    """
    try:
        pages = _CACHE.setdefault(store, {})
    except TypeError:  # a store that cannot be weakly referenced: no cache
        pages = {}
    if lang not in pages:
        pages[lang] = _ontology_html(store, lang)
    return pages[lang]


def _ontology_html(store: GraphStore, lang: str) -> str:
    g = ontology_graph(store)
    doc = "def.en.html" if lang == "en" else "def.html"
    h = HEADINGS[lang]

    def name(iri: URIRef) -> str:
        return _text(g, iri, (RDFS.label, SKOS.prefLabel), lang) or compact(str(iri))

    def link(iri: URIRef) -> tuple[str, str | None]:
        target = document_path(str(iri), "html", lang)
        if target is not None:
            fragment = str(iri).split("#", 1)[1] if "#" in str(iri) else ""
            return name(iri), href(target, doc, fragment)
        return compact(str(iri)), safe_url(str(iri))

    def ours(kind: URIRef) -> list[URIRef]:
        return sorted(
            (
                s
                for s in set(g.subjects(RDF.type, kind))
                if isinstance(s, URIRef) and str(s).startswith(str(CMQ))
            ),
            key=lambda s: name(s).lower(),
        )

    def term(iri: URIRef, facts: list[tuple[str, list[URIRef]]]) -> Term:
        shown = [(title, [link(v) for v in sorted(set(vals))]) for title, vals in facts if vals]
        return Term(
            str(iri).split("#", 1)[1],
            str(iri),
            name(iri),
            _text(g, iri, (SKOS.definition, RDFS.comment), lang),
            shown,
        )

    def iris(values: object) -> list[URIRef]:
        return [v for v in values if isinstance(v, URIRef)]  # type: ignore[attr-defined]

    every = {
        s for s in g.subjects() if isinstance(s, URIRef) and str(s).startswith(str(CMQ)) and "#" in str(s)
    }
    class_terms = set(ours(OWL.Class)) | set(ours(RDFS.Class))
    property_terms = {
        s
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property)
        for s in ours(kind)
    }
    other_terms = sorted(every - class_terms - property_terms, key=lambda s: name(s).lower())
    classes = [
        term(
            c,
            [
                (h["super"], iris(g.objects(c, RDFS.subClassOf))),
                (h["sub"], iris(g.subjects(RDFS.subClassOf, c))),
            ],
        )
        for c in sorted(class_terms, key=lambda s: name(s).lower())
    ]
    others = [term(o, [("rdf:type", iris(g.objects(o, RDF.type)))]) for o in other_terms]
    props = [
        term(
            p,
            [
                (h["domain"], iris(g.objects(p, RDFS.domain))),
                (h["range"], iris(g.objects(p, RDFS.range))),
                (h["superprop"], iris(g.objects(p, RDFS.subPropertyOf))),
            ],
        )
        for p in sorted(property_terms, key=lambda s: name(s).lower())
    ]
    schemes = []
    for scheme in sorted(iris(g.subjects(RDF.type, SKOS.ConceptScheme)), key=lambda s: name(s).lower()):
        concepts = sorted(iris(g.subjects(SKOS.inScheme, scheme)), key=lambda s: name(s).lower())
        schemes.append(
            {
                "title": _text(g, scheme, (DCTERMS.title, SKOS.prefLabel), lang),
                "link": link(scheme)[1],
                "definition": _text(g, scheme, (SKOS.definition,), lang),
                "concepts": [(link(c), _text(g, c, (SKOS.definition,), lang)) for c in concepts],
            }
        )
    onto = URIRef(ONTOLOGY_IRI)
    return _page(
        "ontology.html",
        lang,
        doc,
        h=h,
        title=_text(g, onto, (DCTERMS.title, RDFS.label), lang) or compact(ONTOLOGY_IRI),
        description=_text(g, onto, (DCTERMS.description, RDFS.comment), lang),
        version=_text(g, onto, (OWL.versionInfo,), lang),
        iri=ONTOLOGY_IRI,
        classes=classes,
        properties=props,
        others=others,
        schemes=schemes,
        formats=[(ext, href(f"def.{ext}", doc)) for ext in ("ttl", "jsonld", "nt", "rdf")],
    )

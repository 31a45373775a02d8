"""HTML pages for people: an entity's statements grouped by property, each with its sources.

Rendered with Jinja2 with autoescaping on, so every label, value and IRI is escaped; a link is
only made to an ``http(s)`` IRI (a ``javascript:`` value stays text). Links between the graph's
own resources are relative, so the same pages work under the served host, a static host at any
path, and a folder opened from disk. French by default, English in ``….en.html``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from rdflib import Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from ..namespaces import BASE, ONTOLOGY_IRI, compact
from ..store import GraphStore
from .resources import RDF_FORMATS, Description, Statement, document_path, label
from .void import ENTAILED_GRAPH

TEXT = {
    "fr": {
        "lang_name": "Français",
        "other": "English",
        "site": "Graphe des Campus des métiers et des qualifications",
        "according": "selon",
        "statements": "Ce que disent les sources",
        "incoming": "Ce qui renvoie ici",
        "disputed": "Les sources divergent",
        "types": "Types",
        "formats": "Données",
        "cut": "Liste tronquée : seuls les premiers liens sont montrés.",
        "nosource": "métadonnées du graphe",
        "entailed": "déduit de l'ontologie",
        "home": "Accueil",
        "classes": "Ce que contient le graphe",
        "dataset": "Description du jeu de données (VoID)",
        "ontology": "Ontologie et vocabulaires",
        "sources": "Sources",
        "query": "Interroger le graphe (SPARQL)",
        "dumps": "Téléchargements",
        "entities": "Toutes les entités",
        "notfound": "Cette ressource n'existe pas dans le graphe.",
        "licence": "Données sous Licence Ouverte / Open Licence 2.0 (Etalab).",
        "published": "publié le",
        "map": "Carte du campus, de ses membres et partenaires",
    },
    "en": {
        "lang_name": "English",
        "other": "Français",
        "site": "Graph of the Campus des Métiers et des Qualifications",
        "according": "according to",
        "statements": "What the sources say",
        "incoming": "What links here",
        "disputed": "The sources disagree",
        "types": "Types",
        "formats": "Data",
        "cut": "List cut: only the first links are shown.",
        "nosource": "graph metadata",
        "entailed": "inferred from the ontology",
        "home": "Home",
        "classes": "What the graph holds",
        "dataset": "Dataset description (VoID)",
        "ontology": "Ontology and vocabularies",
        "sources": "Sources",
        "query": "Query the graph (SPARQL)",
        "dumps": "Downloads",
        "entities": "All entities",
        "notfound": "This resource does not exist in the graph.",
        "licence": "Data under the Licence Ouverte / Open Licence 2.0 (Etalab).",
        "published": "published",
        "map": "Map of the campus, its members and partners",
    },
}


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("cmq_graph.web", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def href(target_doc: str, current_doc: str, fragment: str = "") -> str:
    """Relative link from document ``current_doc`` to ``target_doc`` (both relative to the base)."""
    start = posixpath.dirname(current_doc) or "."
    rel = posixpath.relpath(target_doc, start)
    return rel + (f"#{fragment}" if fragment else "")


def safe_url(iri: str) -> str | None:
    """``iri`` when it is an http(s) URL fit for an ``href``; None otherwise (no javascript:)."""
    try:
        parts = urlsplit(iri)
    except ValueError:
        return None
    return iri if parts.scheme in ("http", "https") and parts.netloc else None


@dataclass
class Link:
    text: str
    url: str | None
    iri: str
    detail: str = ""  # for a source: its publisher and date


@dataclass
class Value:
    """A value as shown: text, link (or None), language, and the sources that state it."""

    text: str
    url: str | None
    lang: str
    sources: list[Link]
    datatype: str = ""


class Renderer:
    """Turns IRIs of one description into labelled, relative or external links."""

    def __init__(self, desc: Description, doc: str, lang: str):
        self.desc, self.doc, self.lang = desc, doc, lang

    def link(self, iri: str) -> Link:
        text = label(self.desc, iri, self.lang) or compact(iri)
        target = document_path(iri, "html", self.lang)
        if target is not None:
            fragment = iri.split("#", 1)[1] if "#" in iri else ""
            return Link(text, href(target, self.doc, fragment), iri)
        return Link(text, safe_url(iri), iri)

    def source(self, graph: str) -> Link:
        info = self.desc.sources.get(graph, {})
        if graph.endswith("/graph/entailed"):
            return Link(TEXT[self.lang]["entailed"], self.link(graph).url, graph)
        title = info.get("title")
        if title is None:
            link = self.link(graph)
            return Link(
                link.text if graph.startswith(BASE + "id/") else TEXT[self.lang]["nosource"], link.url, graph
            )
        detail = ", ".join(x for x in (info.get("publisher", ""), self._date(info.get("issued", ""))) if x)
        return Link(title, self.link(graph).url, graph, detail)

    def _date(self, value: str) -> str:
        return f"{TEXT[self.lang]['published']} {value}" if value else ""

    def value(self, st: Statement) -> Value:
        sources = [self.source(str(g)) for g in st.graphs]
        v = st.value
        if isinstance(v, URIRef):
            link = self.link(str(v))
            return Value(link.text, link.url, "", sources)
        if isinstance(v, Literal):
            dt = compact(str(v.datatype)) if v.datatype is not None else ""
            return Value(str(v), None, v.language or "", sources, dt)
        return Value(str(v), None, "", sources)


@dataclass
class PropertyRow:
    prop: Link
    values: list[Value]
    disputed: bool


# Properties whose values add up rather than compete: notes, descriptions, other names.
_ADDITIVE = {
    "http://www.w3.org/2000/01/rdf-schema#comment",
    "http://purl.org/dc/terms/description",
    "http://www.w3.org/2004/02/skos/core#altLabel",
    "http://www.w3.org/2004/02/skos/core#note",
    "http://www.w3.org/2004/02/skos/core#definition",
}


def _asserted(statements: list[Statement]) -> list[Statement]:
    """What sources (or the metadata) state; the entailed super-types and super-properties are
    for machines (they are in the RDF documents) and would only repeat the page."""
    return [st for st in statements if any(str(g) != ENTAILED_GRAPH for g in st.graphs)]


def _rows(renderer: Renderer, statements: list[Statement]) -> list[PropertyRow]:
    by_prop: dict[str, list[Statement]] = {}
    for st in _asserted(statements):
        if st.predicate == RDF.type:
            continue
        by_prop.setdefault(str(st.predicate), []).append(st)
    rows = []
    for prop, sts in by_prop.items():
        values = [renderer.value(st) for st in sorted(sts, key=lambda s: (str(s.value), s.graphs))]
        # Several values (in one language) that not all the same sources state: they disagree.
        by_lang: dict[str, set[frozenset[str]]] = {}
        counts: dict[str, int] = {}
        for st in sts:
            key = st.value.language or "" if isinstance(st.value, Literal) else ""
            by_lang.setdefault(key, set()).add(frozenset(map(str, st.graphs)))
            counts[key] = counts.get(key, 0) + 1
        disputed = prop not in _ADDITIVE and any(
            counts[k] > 1 and len(sets) > 1 for k, sets in by_lang.items()
        )
        rows.append(PropertyRow(renderer.link(prop), values, disputed))
    rows.sort(key=lambda r: r.prop.text.lower())
    return rows


def _page(template: str, lang: str, doc: str, **context: object) -> str:
    other_doc = _other_language(doc)
    return (
        environment()
        .get_template(template)
        .render(
            t=TEXT[lang],
            lang=lang,
            home=href("index.en.html" if lang == "en" else "index.html", doc),
            other=href(other_doc, doc),
            **context,
        )
    )


def _other_language(doc: str) -> str:
    if doc.endswith(".en.html"):
        return doc[: -len(".en.html")] + ".html"
    return doc[: -len(".html")] + ".en.html"


def render_resource(desc: Description, doc: str, lang: str, *, map_doc: str | None = None) -> str:
    """The page of ``desc``'s resource, at path ``doc`` (relative to the base)."""
    r = Renderer(desc, doc, lang)
    root = str(desc.iri)
    sections = []
    for subject in desc.subjects:
        statements = desc.statements.get(subject, [])
        types = sorted(
            {
                r.link(str(st.value)).text: r.link(str(st.value))
                for st in _asserted(statements)
                if st.predicate == RDF.type
            }.items()
        )
        sections.append(
            {
                "id": str(subject).split("#", 1)[1] if "#" in str(subject) else "",
                "title": label(desc, str(subject), lang) or compact(str(subject)),
                "iri": str(subject),
                "types": [t for _k, t in types],
                "rows": _rows(r, statements),
            }
        )
    incoming: dict[str, list[tuple[Link, Link]]] = {}
    for s, p, g in desc.incoming:
        incoming.setdefault(r.link(str(p)).text, []).append((r.link(str(s)), r.source(str(g))))
    stem = doc[: -len(".en.html")] if doc.endswith(".en.html") else doc[: -len(".html")]
    formats = [(ext, href(f"{stem}.{ext}", doc)) for ext in RDF_FORMATS]
    return _page(
        "resource.html",
        lang,
        doc,
        title=sections[0]["title"] if sections else compact(root),
        iri=root,
        sections=sections,
        incoming=sorted(incoming.items()),
        incoming_cut=desc.incoming_cut,
        formats=formats,
        media={ext: media for ext, (media, _f) in RDF_FORMATS.items()},
        map_href=map_doc,
    )


_CLASSES = """
SELECT ?class (MAX(?n) AS ?entities) WHERE {
  GRAPH <%s> { <%s> void:classPartition ?part . ?part void:class ?class ; void:entities ?n }
} GROUP BY ?class ORDER BY DESC(?entities) ?class
"""
# The ontology's labels only: the data's own labels are many at national scale.
_CLASS_LABELS = (
    "SELECT ?g ?class ?label WHERE { GRAPH ?g { ?class rdfs:label ?label } FILTER(isIRI(?class)) }"
)
_ENTITIES = """
SELECT ?e (SAMPLE(?l) AS ?label) WHERE {
  ?e a ?c . FILTER(STRSTARTS(STR(?e), STR(id:)))
  OPTIONAL { ?e rdfs:label|dcterms:title|skos:prefLabel ?l FILTER(LANG(?l) IN ("", "fr")) }
} GROUP BY ?e ORDER BY ?e
"""


def render_home(
    store: GraphStore,
    lang: str,
    *,
    entities: bool = False,
    dumps: list[tuple[str, str, int, str]] | None = None,
    query_url: str | None = None,
) -> str:
    """The home page: what the graph holds (read from VoID), the dataset, ontology and sources;
    with ``entities`` (the static site) a list of every entity, so that every page is linked."""
    from ..namespaces import META_GRAPH
    from .void import DATASET_IRI

    doc = "index.en.html" if lang == "en" else "index.html"
    desc = Description(URIRef(BASE))
    for _g, cls, lab in store.query(_CLASS_LABELS, {"g": URIRef(ONTOLOGY_IRI)}).rows:
        desc.labels.setdefault(str(cls), {}).setdefault(_lang(lab), str(lab))
    r = Renderer(desc, doc, lang)
    classes = [(r.link(str(c)), int(n)) for c, n in store.query(_CLASSES % (META_GRAPH, DATASET_IRI)).rows]
    listed = []
    if entities:
        for e, lab in store.query(_ENTITIES).rows:
            target = document_path(str(e), "html", lang)
            if target is not None:
                listed.append(
                    Link(str(lab) if lab is not None else compact(str(e)), href(target, doc), str(e))
                )
    links = {
        "dataset": href(document_path(DATASET_IRI, "html", lang) or "", doc),
        "ontology": href(document_path(BASE + "def", "html", lang) or "", doc),
        "sources": href(document_path(META_GRAPH, "html", lang) or "", doc),
    }
    return _page(
        "home.html",
        lang,
        doc,
        title=TEXT[lang]["site"],
        classes=classes,
        entities=listed,
        links=links,
        dumps=[(name, href(path, doc), size, sha) for name, path, size, sha in dumps or []],
        query_url=query_url,
    )


def _lang(term: Node) -> str:
    return (term.language or "") if isinstance(term, Literal) else ""


def render_error(status: int, message: str, lang: str) -> str:
    return (
        environment()
        .get_template("error.html")
        .render(
            t=TEXT[lang], lang=lang, status=status, message=message, title=str(status), home=None, other=None
        )
    )

"""Every IRI of the graph resolves: HTML for people, RDF for machines (W3C Cool URIs).

``resource_response`` is the framework-free entry point the server (``cmq-graph serve``) calls
for every GET path that is not the SPARQL endpoint, and that ``cmq-graph site`` calls to write
the static files. Paths follow the IRIs, relative to the base (``CMQ_GRAPH_BASE``):

* ``id/…``, ``vocab/…``, ``graph/…``, ``dataset``, ``def``: the IRI names a thing, so the
  answer is ``303 See Other`` to a document about it, chosen by ``Accept``;
* the same path with an extension is that document: ``.html`` (French; ``.en.html`` or
  ``?lang=en`` in English), ``.ttl``, ``.jsonld`` (with its ``@context``), ``.nt``, ``.rdf``
  (RDF/XML), ``.trig`` (keeps each statement's source graph).

Hash IRIs (``def#Campus``, ``…/campus/x#geometry``) are described in the document of the IRI
before the ``#``, as the Cool URIs note says. Every IRI is bound as a query parameter, never
written into the query text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from ..namespaces import BASE, CMQ, ONTOLOGY_IRI, PREFIXES, SHAPES_GRAPH, VOCAB
from ..store import GraphStore

# extension -> (media type, rdflib format); html is handled by pages.
RDF_FORMATS: dict[str, tuple[str, str]] = {
    "ttl": ("text/turtle", "turtle"),
    "jsonld": ("application/ld+json", "json-ld"),
    "nt": ("application/n-triples", "nt"),
    "rdf": ("application/rdf+xml", "xml"),
    "trig": ("application/trig", "trig"),
}
MEDIA_TYPES = {"html": "text/html"} | {ext: media for ext, (media, _f) in RDF_FORMATS.items()}
_ACCEPT_ALIASES = {
    "application/xhtml+xml": "html",
    "application/x-turtle": "ttl",
    "text/n3": "ttl",
    "application/json": "jsonld",
    "text/plain": "nt",
    "application/xml": "rdf",
    "text/xml": "rdf",
}
# Top-level path segments that name resources of the graph.
ROOTS = ("id", "vocab", "graph", "dataset", "def", "shapes", "catalog")
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_STATEMENTS = 5000  # per page: a hub entity's incoming links are cut, and the page says so


@dataclass
class Statement:
    """One value of one property of the resource, with the graphs (sources) stating it."""

    predicate: URIRef
    value: Node
    graphs: list[URIRef] = field(default_factory=list)


@dataclass
class Description:
    """What the graph says about one document's resources, and about what it links to."""

    iri: URIRef
    subjects: list[URIRef] = field(default_factory=list)  # the resource and its hash IRIs
    statements: dict[URIRef, list[Statement]] = field(default_factory=dict)  # by subject
    incoming: list[tuple[URIRef, URIRef, URIRef]] = field(default_factory=list)  # (s, p, graph)
    incoming_cut: bool = False
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # iri -> lang -> label
    sources: dict[str, dict[str, str]] = field(default_factory=dict)  # graph -> title/publisher/…

    @property
    def empty(self) -> bool:
        return not any(self.statements.values()) and not self.incoming


# -- reading the graph ------------------------------------------------------------------------

_OUT = "SELECT ?e ?p ?o ?g WHERE { GRAPH ?g { ?e ?p ?o } }"
_IN = "SELECT ?e ?s ?p ?g WHERE { GRAPH ?g { ?s ?p ?e } FILTER(isIRI(?s)) } LIMIT %d"
# Lists of terms read from the graph itself, written with the strict term writer of
# cmq_graph.remote (an IRI that would need escaping is refused), never user input.
_OUT_MANY = "SELECT ?e ?p ?o ?g WHERE { VALUES ?e { %s } GRAPH ?g { ?e ?p ?o } }"
_LABELS = "SELECT ?x ?label WHERE { VALUES ?x { %s } ?x rdfs:label|skos:prefLabel|dcterms:title ?label }"
_SOURCES = """
SELECT ?g ?title ?publisher ?issued ?url WHERE {
  VALUES ?g { %s }
  OPTIONAL { ?g dcterms:title ?title }
  OPTIONAL { ?g dcterms:publisher/foaf:name ?publisher }
  OPTIONAL { ?g dcterms:issued ?issued }
  OPTIONAL { ?g schema:url ?url }
}
"""
_CHUNK = 400


def _lang_of(term: Node) -> str:
    return (term.language or "") if isinstance(term, Literal) else ""


def _values(terms: Iterable[URIRef]) -> Iterator[str]:
    """VALUES bodies of at most ``_CHUNK`` IRIs; IRIs the term writer refuses are left out."""
    from ..errors import QueryError
    from ..remote import sparql_term

    written = []
    for term in terms:
        try:
            written.append(sparql_term(term))
        except QueryError:
            continue
    for i in range(0, len(written), _CHUNK):
        yield " ".join(written[i : i + _CHUNK])


def describe(store: GraphStore, iri: str, *, timeout: float | None = 10.0) -> Description:
    """Gather what the page or the RDF document of ``iri`` shows: its statements with their
    graphs, those of its hash IRIs (``#geometry``, VoID partitions), incoming links, labels and
    sources, in a handful of queries whatever the number of statements."""
    root = URIRef(iri)
    desc = Description(root)
    index: dict[tuple[Node, Node, Node], Statement] = {}

    def add(rows: list) -> list[URIRef]:
        children = []
        for e, p, o, g in rows:
            if e not in desc.statements:
                desc.subjects.append(e)
                desc.statements[e] = []
            st = index.get((e, p, o))
            if st is None:
                st = index[(e, p, o)] = Statement(p, o)
                desc.statements[e].append(st)
            if g not in st.graphs:
                st.graphs.append(g)
            if isinstance(o, URIRef) and str(o).startswith(iri + "#") and o not in desc.statements:
                children.append(o)
        return children

    desc.subjects.append(root)
    desc.statements[root] = []
    todo = add(store.query(_OUT, {"e": root}, timeout=timeout).rows)
    while todo:
        batch = sorted(set(todo) - set(desc.statements))
        todo = []
        for body in _values(batch):
            todo += add(store.query(_OUT_MANY % body, timeout=timeout).rows)
        for child in batch:
            if child not in desc.statements:  # mentioned but says nothing itself
                desc.statements[child] = []
                desc.subjects.append(child)
    rows = store.query(_IN % (MAX_STATEMENTS + 1), {"e": root}, timeout=timeout).rows
    desc.incoming_cut = len(rows) > MAX_STATEMENTS
    seen: set[tuple[Node, Node, Node]] = set()
    for _e, s, p, g in rows[:MAX_STATEMENTS]:
        if (s, p, g) not in seen and s not in desc.statements:
            seen.add((s, p, g))
            desc.incoming.append((s, p, g))  # type: ignore[arg-type]
    named: set[URIRef] = set(desc.statements)
    graphs: set[URIRef] = set()
    for statements in desc.statements.values():
        for st in statements:
            named.add(st.predicate)
            if isinstance(st.value, URIRef):
                named.add(st.value)
            graphs.update(st.graphs)
    for s, p, g in desc.incoming:
        named.update((s, p))
        graphs.add(g)
    named.update(graphs)
    for body in _values(sorted(named)):
        for x, lab in store.query(_LABELS % body, timeout=timeout).rows:
            desc.labels.setdefault(str(x), {}).setdefault(_lang_of(lab), str(lab))
    for body in _values(sorted(graphs)):
        for g, title, publisher, issued, url in store.query(_SOURCES % body, timeout=timeout).rows:
            info = desc.sources.setdefault(str(g), {})
            for key, value in (("title", title), ("publisher", publisher), ("issued", issued), ("url", url)):
                if value is not None:
                    info.setdefault(key, str(value))
    return desc


def label(desc: Description, iri: str, lang: str) -> str | None:
    """The resource's label in ``lang``, else French, else any; None when it has none."""
    found = desc.labels.get(iri)
    if not found:
        return None
    return found.get(lang) or found.get("fr") or found.get("") or next(iter(found.values()))


# -- RDF documents ----------------------------------------------------------------------------


def rdf_graph(desc: Description) -> Graph:
    """The resource's own statements (and its hash IRIs'), as one graph."""
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    for subject, statements in desc.statements.items():
        for st in statements:
            g.add((subject, st.predicate, st.value))
    return g


def rdf_document(desc: Description, ext: str) -> bytes:
    """The document in format ``ext``; TriG keeps each statement in its source's graph."""
    if ext == "trig":
        from rdflib import Dataset

        ds = Dataset()
        for prefix, ns in PREFIXES.items():
            ds.bind(prefix, ns)
        for subject, statements in desc.statements.items():
            for st in statements:
                for graph in st.graphs:
                    ds.add((subject, st.predicate, st.value, URIRef(graph)))
        return ds.serialize(format="trig").encode("utf-8")
    graph = rdf_graph(desc)
    if ext == "jsonld":
        context = {prefix: ns for prefix, ns in PREFIXES.items() if prefix != "id"}
        return json.dumps(
            json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True)),
            ensure_ascii=False,
            indent=2,
        ).encode("utf-8")
    return graph.serialize(format=RDF_FORMATS[ext][1], encoding="utf-8")


# Documents that are a whole named graph: the ontology (with its vocabularies) and the shapes,
# published apart from the data.
WHOLE_GRAPHS = {"def": (ONTOLOGY_IRI, VOCAB.rstrip("/")), "shapes": (SHAPES_GRAPH,)}
_GRAPH = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"


def graph_document(store: GraphStore, graphs: tuple[str, ...], ext: str) -> bytes:
    """Named graphs ``graphs`` whole, in format ``ext``."""
    desc = Description(URIRef(graphs[0]))
    for name in graphs:
        for g, s, p, o in store.query(_GRAPH, {"g": URIRef(name)}).rows:
            desc.statements.setdefault(s, []).append(Statement(p, o, [g]))  # type: ignore[arg-type]
    return rdf_document(desc, ext)


# -- paths, IRIs and negotiation --------------------------------------------------------------

BASE_PATH = urlsplit(BASE).path  # "/cmq/" for https://w3id.org/cmq/


def local_path(path: str) -> str:
    """``path`` relative to the base: "/cmq/id/x" and "/id/x" both give "id/x"."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    if BASE_PATH != "/" and path.startswith(BASE_PATH):
        return path[len(BASE_PATH) :]
    return path.lstrip("/")


def split_document(rel: str) -> tuple[str, str | None, str | None]:
    """("id/campus/x", "ttl", None) from "id/campus/x.ttl"; language from ".en.html"."""
    last = rel.rsplit("/", 1)[-1]
    for ext in ("html", *RDF_FORMATS):
        suffix = "." + ext
        if last.endswith(suffix) and len(last) > len(suffix):
            stem = rel[: -len(suffix)]
            lang = None
            if ext == "html" and stem.endswith(".en"):
                stem, lang = stem[:-3], "en"
            return stem, ext, lang
    return rel, None, None


def iri_of(rel: str) -> str | None:
    """The IRI a path relative to the base names, or None if it is not one of the graph's."""
    parts = rel.split("/")
    if not parts or parts[0] not in ROOTS or not all(_SEGMENT.match(p) for p in parts):
        return None
    return BASE + rel


def document_path(iri: str, ext: str = "html", lang: str = "fr") -> str | None:
    """Path (relative to the base) of the document describing ``iri``, or None if not ours."""
    if not iri.startswith(BASE):
        return None
    rel = iri[len(BASE) :].split("#", 1)[0]
    if not rel or iri_of(rel) is None:
        return None
    suffix = ".en.html" if ext == "html" and lang == "en" else "." + ext
    return rel + suffix


def negotiate(accept: str) -> str:
    """The extension of the best document for an ``Accept`` header (HTML when indifferent)."""
    best, best_q = "html", -1.0
    for order, item in enumerate(accept.split(",") if accept else []):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        q = 1.0
        for param in parts[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        ext = next((e for e, m in MEDIA_TYPES.items() if m == media), None) or _ACCEPT_ALIASES.get(media)
        if media in ("*/*", "text/*"):
            ext = "html"
        if ext is None or q <= 0:
            continue
        # Ties go to the earlier item; HTML loses a tie against an RDF type listed before it.
        if q > best_q:
            best, best_q = ext, q
        del order
    return best


_EXISTS = "SELECT ?e WHERE { { ?e ?p ?o } UNION { ?s ?p ?e } } LIMIT 1"


def _exists(store: GraphStore, iri: str) -> bool:
    """Whether the graph mentions ``iri`` (or, for the ontology, holds its graph)."""
    if iri in (ONTOLOGY_IRI, SHAPES_GRAPH):
        return True
    return bool(store.query(_EXISTS, {"e": URIRef(iri)}, timeout=10.0).rows)


def _headers(media: str, **extra: str) -> dict[str, str]:
    charset = "; charset=utf-8" if media.startswith("text/") or media.endswith("json") else ""
    return {"Content-Type": media + charset, "Vary": "Accept", "Access-Control-Allow-Origin": "*"} | extra


def _not_found(message: str, lang: str) -> tuple[int, dict[str, str], bytes]:
    from .pages import render_error

    return 404, _headers("text/html"), render_error(404, message, lang).encode("utf-8")


def resource_response(
    store: GraphStore, path: str, accept: str, params: Mapping[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """Answer a GET of ``path``: a 303 from a thing's IRI to its document, or the document."""
    from . import pages

    lang = "en" if params.get("lang") == "en" else "fr"
    rel = local_path(path)
    if rel in ("", "index.html", "index.en.html"):
        lang = "en" if rel == "index.en.html" else lang
        return 200, _headers("text/html"), pages.render_home(store, lang).encode("utf-8")
    stem, ext, doc_lang = split_document(rel)
    lang = doc_lang or lang
    iri = iri_of(stem)
    if iri is None:
        return _not_found(path, lang)
    if ext is None:
        if not _exists(store, iri):
            return _not_found(path, lang)
        target = negotiate(accept)
        if stem == "shapes" and target == "html":
            target = "ttl"  # the shapes have no page of their own
        doc = document_path(iri, target, lang)
        if doc is None:
            return _not_found(path, lang)
        # Relative to the request (RFC 9110): the same answer under any host path prefix.
        location = doc.rsplit("/", 1)[-1]
        return 303, _headers("text/plain", Location=location), f"See {location}\n".encode()
    body = document(store, stem, iri, ext, lang)
    if body is None:
        return _not_found(path, lang)
    return 200, _headers(MEDIA_TYPES[ext]), body


MAP_SUFFIX = ".map"  # id/campus/x.map.html: the campus's map (cmq_graph.maps)


def is_campus(desc: Description) -> bool:
    return any(
        st.predicate == RDF.type and st.value == CMQ.Campus for st in desc.statements.get(desc.iri, [])
    )


def campus_map(store: GraphStore, campus: str, lang: str) -> bytes | None:
    """The interactive map of a campus, its members and partners (None if it is not a campus)."""
    from .. import maps
    from ..errors import QueryError

    try:
        return maps.render_html(maps.build_map(store, "campus", campus=campus, lang=lang)).encode("utf-8")
    except QueryError:
        return None


def document(
    store: GraphStore, stem: str, iri: str, ext: str, lang: str, desc: Description | None = None
) -> bytes | None:
    """The document ``stem.ext`` about ``iri`` (None when the graph says nothing of it);
    ``desc`` saves reading the graph again when several formats of one resource are written."""
    from . import pages

    if stem == "def" and ext == "html":
        from .ontology_docs import ontology_html

        return ontology_html(store, lang).encode("utf-8")
    if stem in WHOLE_GRAPHS:
        return None if ext == "html" else graph_document(store, WHOLE_GRAPHS[stem], ext)
    if stem.endswith(MAP_SUFFIX):
        return campus_map(store, iri[: -len(MAP_SUFFIX)], lang) if ext == "html" else None
    desc = desc or describe(store, iri)
    if desc.empty:
        return None
    if ext == "html":
        doc = stem + (".en.html" if lang == "en" else ".html")
        map_doc = None
        if is_campus(desc):
            map_doc = stem.rsplit("/", 1)[-1] + MAP_SUFFIX + (".en.html" if lang == "en" else ".html")
        return pages.render_resource(desc, doc, lang, map_doc=map_doc).encode("utf-8")
    return rdf_document(desc, ext)

"""SHACL validation with reports a person can act on.

The shapes are compiled to SPARQL (:mod:`cmq_graph.shacl_sparql`) and run by Oxigraph on the
store that is about to become the graph (a build's new generation, or an in-memory store for
``cmq-graph validate``). The data graph is the union of every graph but the shapes: the source
graphs, the ontology and the vocabularies, so ``sh:targetClass org:Organization`` also reaches a
``cmq:University`` through the ontology's ``rdfs:subClassOf``, with no inference. Each violation
is printed with the entity's label, where it was stated (file and line), the rule broken (its
``sh:name``) and the offending value: not as a raw report graph.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import pyoxigraph as ox
from rdflib import Graph

from . import shacl_sparql
from .errors import ValidationError
from .namespaces import SHAPES_GRAPH, compact
from .shacl_sparql import ShapesError, ShapesGraph, Violation

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SH_VIOLATION = shacl_sparql.SH + "Violation"
Origins = Mapping[str, tuple[str, int]]


def to_graph(quads: Iterable[ox.Quad]) -> Graph:
    """The union of ``quads`` as an rdflib graph (N-Triples round trip: fast and exact)."""
    data = ox.serialize(
        [ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES
    )
    graph = Graph()
    if data:
        graph.parse(data=data.decode("utf-8"), format="nt")
    return graph


def data_graphs(store: ox.Store) -> list[ox.NamedNode]:
    """Every named graph of ``store`` but the shapes: what the shapes validate."""
    shapes = ox.NamedNode(SHAPES_GRAPH)
    return [g for g in store.named_graphs() if isinstance(g, ox.NamedNode) and g != shapes]


def violations(
    store: ox.Store, shapes: Iterable[ox.Triple | ox.Quad], graphs: list[ox.NamedNode] | None = None
) -> list[Violation]:
    """Every result of the shapes on ``store`` (the union of ``graphs``, default: all but the shapes)."""
    graphs = data_graphs(store) if graphs is None else graphs
    checks = shacl_sparql.compile_shapes(shapes, shacl_sparql.subclass_closure(store, graphs))
    if not checks:
        # An emptied or shape-less shapes.ttl must not turn validation off without a word.
        raise ShapesError("no active shape with a target: the validation would check nothing")
    # The union of all graphs is 2-3x faster to read than a list of graphs: used when it is the
    # same thing (the store holds the data graphs only, and nothing in its default graph).
    everything = set(graphs) == set(store.named_graphs()) and not any(
        True for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph())
    )
    return shacl_sparql.run(store, checks, None if everything else graphs)


def _labels(store: ox.Store, graphs: list[ox.NamedNode], nodes: set) -> dict:
    """Node -> its French label (else any label), for the nodes of a report."""
    iris = [n for n in nodes if isinstance(n, ox.NamedNode)]
    found: dict = {}
    for start in range(0, len(iris), 500):
        chunk = " ".join(str(n) for n in iris[start : start + 500])
        query = f"SELECT ?s ?l WHERE {{ VALUES ?s {{ {chunk} }} ?s <{RDFS_LABEL}> ?l }}"
        for row in store.query(query, default_graph=graphs):
            label = row["l"]
            best = found.get(row["s"])
            if best is None or (label.language == "fr" and best.language != "fr"):
                found[row["s"]] = label
    return {k: v.value for k, v in found.items()}


def describe(
    found: list[Violation],
    shapes: ShapesGraph,
    labels: Mapping,
    origins: Origins | Callable[[str], tuple[str, int] | None] | None = None,
) -> list[str]:
    """One readable French line per violation, sorted."""

    def label(node) -> str:
        iri = node.value if isinstance(node, ox.NamedNode) else str(node)
        name = labels.get(node)
        return f"« {name} » ({compact(iri)})" if name else compact(iri)

    def term(node) -> str:
        if isinstance(node, ox.Literal):
            dt = node.datatype.value
            plain = dt.endswith("#string") or dt.endswith("#langString")
            return repr(node.value) + ("" if plain else f"^^{compact(dt)}")
        return label(node)

    def where(node) -> str:
        if origins is None or not isinstance(node, ox.NamedNode):
            return ""
        place = origins(node.value) if callable(origins) else origins.get(node.value)
        return f"{place[0]}:{place[1]}: " if place else ""

    lines = set()
    for v in found:
        text = f"{where(v.focus)}{label(v.focus)}: {v.message or 'violates ' + str(v.shape)}"
        rule = shapes.text(v.shape, shacl_sparql.SH + "name")
        if rule:
            text += f" [règle : {rule}]"
        if v.path is not None:
            text += f" — propriété {compact(v.path.value)}"
        if v.value is not None:
            text += f", valeur {term(v.value)}"
        lines.add(text)
    return sorted(lines)


def check_store(
    store: ox.Store,
    shapes: list[ox.Triple | ox.Quad],
    origins: Origins | Callable[[str], tuple[str, int] | None] | None = None,
) -> list[str]:
    """Validate ``store``; one readable line per violation (empty when the graph conforms)."""
    graphs = data_graphs(store)
    found = [v for v in violations(store, shapes, graphs) if v.severity == SH_VIOLATION]
    if not found:
        return []
    nodes = {v.focus for v in found} | {v.value for v in found if v.value is not None}
    return describe(found, ShapesGraph(shapes), _labels(store, graphs, nodes), origins)


def validate_or_raise(
    store: ox.Store,
    shapes: list[ox.Triple | ox.Quad],
    origins: Origins | Callable[[str], tuple[str, int] | None] | None = None,
) -> None:
    lines = check_store(store, shapes, origins)
    if lines:
        raise ValidationError(lines)


def _triples(graph: Graph) -> list[ox.Triple]:
    return list(ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES))


def check(data: Graph, shapes: Graph, ontology: Graph, origins: Origins | None = None) -> list[str]:
    """Validate rdflib graphs (data, shapes, ontology + vocabularies) in a scratch Oxigraph store."""
    store = ox.Store()
    for name, graph in (("urn:cmq:data", data), ("urn:cmq:ontology", ontology)):
        g = ox.NamedNode(name)
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, g) for t in _triples(graph))
    return check_store(store, _triples(shapes), origins)

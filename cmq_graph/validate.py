"""SHACL validation (pySHACL) with reports a person can act on.

The data graph is the union of every source graph, validated with the ontology and vocabularies
as ontology graph and RDFS inference, so a shape targeting ``org:Organization`` also sees a
``cmq:University``. Each violation is printed with the entity's label, where it was stated
(file and line), the rule broken and the offending value: not as a raw report graph.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from .errors import ValidationError
from .namespaces import SH, compact


def to_graph(quads: Iterable[ox.Quad]) -> Graph:
    """The union of ``quads`` as an rdflib graph (N-Triples round trip: fast and exact)."""
    data = ox.serialize(
        [ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES
    )
    graph = Graph()
    if data:
        graph.parse(data=data.decode("utf-8"), format="nt")
    return graph


def _label(graph: Graph, node) -> str:
    labels = list(graph.objects(node, RDFS.label))
    fr = [str(x) for x in labels if isinstance(x, Literal) and x.language == "fr"]
    name = fr[0] if fr else (str(labels[0]) if labels else None)
    return f"« {name} » ({compact(str(node))})" if name else compact(str(node))


def _term(graph: Graph, node) -> str:
    if isinstance(node, Literal):
        return repr(str(node)) + (f"^^{compact(str(node.datatype))}" if node.datatype else "")
    return _label(graph, node) if isinstance(node, URIRef) else str(node)


def check(
    data: Graph, shapes: Graph, ontology: Graph, origins: dict[str, tuple[str, int]] | None = None
) -> list[str]:
    """Validate; return one readable line per violation (empty when the graph conforms)."""
    conforms, report, _ = shacl_validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="rdfs", allow_warnings=True
    )
    if conforms:
        return []
    lines = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        message = report.value(result, SH.resultMessage)
        shape = report.value(result, SH.sourceShape)
        rule = shapes.value(shape, SH.name) if shape is not None else None
        where = ""
        if origins and focus is not None and str(focus) in origins:
            file, line = origins[str(focus)]
            where = f"{file}:{line}: "
        text = f"{where}{_label(data, focus)}: {message or 'violates ' + compact(str(shape))}"
        if rule:
            text += f" [règle : {rule}]"
        if path is not None and isinstance(path, URIRef):
            text += f" — propriété {compact(str(path))}"
        if value is not None:
            text += f", valeur {_term(data, value)}"
        lines.append(text)
    return sorted(set(lines))


def validate_or_raise(data: Graph, shapes: Graph, ontology: Graph, origins=None) -> None:
    violations = check(data, shapes, ontology, origins)
    if violations:
        raise ValidationError(violations)

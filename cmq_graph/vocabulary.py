"""Load the ontology, the SKOS vocabularies and the shapes from ``ontology/``.

Turtle is parsed with Oxigraph (fast, and its syntax errors give line and column); rdflib graphs
are made from the result only where rdflib is needed (pySHACL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import Problem
from .namespaces import ONTOLOGY_GRAPH, SHAPES_GRAPH, VOCAB, VOCAB_GRAPH
from .reading import open_regular, plain_text

SKOS_IN_SCHEME = ox.NamedNode("http://www.w3.org/2004/02/skos/core#inScheme")
ENTITY_CLASS_SUFFIX = "def#entityClass"


@dataclass(frozen=True)
class Concept:
    iri: ox.NamedNode
    entity_class: ox.NamedNode | None


@dataclass
class Ontology:
    """The parsed ``ontology/`` folder, as quads in their graphs, and the concept lookup."""

    quads: list[ox.Quad] = field(default_factory=list)
    # scheme name -> code -> concept
    schemes: dict[str, dict[str, Concept]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def graph_quads(self, graph: str) -> list[ox.Quad]:
        name = ox.NamedNode(graph)
        return [q for q in self.quads if q.graph_name == name]


def _parse(path: Path, graph: str, problems: list[Problem]) -> list[ox.Quad]:
    try:
        name = ox.NamedNode(graph)
        with open_regular(path) as fh:  # a FIFO or a folder is refused, never waited on
            raw = fh.read()
        if not plain_text(path, raw, problems):
            return []
        triples = ox.parse(raw, format=ox.RdfFormat.TURTLE, rename_blank_nodes=True)
        return [ox.Quad(t.subject, t.predicate, t.object, name) for t in triples]
    except SyntaxError as exc:
        msg = str(exc)
        m = re.search(r"line (\d+)", msg)  # Oxigraph: "Parser error at line 3 between columns ..."
        line = int(m.group(1)) if m else None
        problems.append(Problem(str(path), line, None, f"invalid Turtle: {msg}", "valid Turtle 1.1"))
    except OSError as exc:
        problems.append(Problem(str(path), None, None, f"cannot read: {exc}"))
    return []


def load_ontology(ontology_dir: Path, problems: list[Problem]) -> Ontology:
    """Parse ``cmq.ttl``, ``vocabularies/*.ttl`` and ``shapes.ttl``; report problems, don't raise."""
    onto = Ontology()
    main = ontology_dir / "cmq.ttl"
    shapes = ontology_dir / "shapes.ttl"
    vocab_files = sorted((ontology_dir / "vocabularies").glob("*.ttl"))
    for path, graph in [(main, ONTOLOGY_GRAPH), (shapes, SHAPES_GRAPH)] + [
        (p, VOCAB_GRAPH) for p in vocab_files
    ]:
        if not path.exists() and not path.is_symlink():
            problems.append(Problem(str(path), None, None, "file is missing"))
            continue
        onto.files.append(path)
        onto.quads.extend(_parse(path, graph, problems))

    classes: dict[str, ox.NamedNode] = {}
    for q in onto.quads:
        if q.predicate.value.endswith(ENTITY_CLASS_SUFFIX) and isinstance(q.object, ox.NamedNode):
            classes[q.subject.value] = q.object
    for q in onto.quads:
        if q.predicate == SKOS_IN_SCHEME and q.object.value.startswith(VOCAB):
            scheme = q.object.value[len(VOCAB) :]
            iri = q.subject.value
            if not iri.startswith(q.object.value + "/"):
                continue
            code = iri[len(q.object.value) + 1 :]
            onto.schemes.setdefault(scheme, {})[code] = Concept(q.subject, classes.get(iri))
    return onto

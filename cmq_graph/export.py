"""Export the graph in the usual RDF syntaxes.

Graph formats (Turtle, N-Triples, JSON-LD, RDF/XML) merge every named graph into one; TriG and
N-Quads keep the named graphs, hence the provenance of each statement.
"""

from __future__ import annotations

from typing import BinaryIO

import pyoxigraph as ox

from .namespaces import PREFIXES
from .store import EmbeddedStore

FORMATS: dict[str, tuple[ox.RdfFormat, bool]] = {
    "ttl": (ox.RdfFormat.TURTLE, False),
    "nt": (ox.RdfFormat.N_TRIPLES, False),
    "jsonld": (ox.RdfFormat.JSON_LD, False),
    "xml": (ox.RdfFormat.RDF_XML, False),
    "trig": (ox.RdfFormat.TRIG, True),
    "nq": (ox.RdfFormat.N_QUADS, True),
}


def export(store: EmbeddedStore, fmt: str, out: BinaryIO) -> None:
    rdf_format, keeps_graphs = FORMATS[fmt]
    quads = store.quads()
    if keeps_graphs:
        data = quads
    else:
        seen: set[ox.Triple] = set()
        data = []
        for q in quads:
            t = ox.Triple(q.subject, q.predicate, q.object)
            if t not in seen:
                seen.add(t)
                data.append(t)
    prefixes = (
        PREFIXES if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML) else None
    )
    ox.serialize(data, out, format=rdf_format, prefixes=prefixes)

"""What the store holds: triples, graphs (sources), entities by class."""

from __future__ import annotations

from dataclasses import dataclass, field

from .namespaces import compact
from .store import GraphStore

_COUNTS = """
SELECT (COUNT(*) AS ?quads) (COUNT(DISTINCT ?g) AS ?graphs) WHERE { GRAPH ?g { ?s ?p ?o } }
"""
_BY_GRAPH = """
SELECT ?g ?title (COUNT(*) AS ?n) WHERE {
  GRAPH ?g { ?s ?p ?o }
  OPTIONAL { ?g dcterms:title ?title }
} GROUP BY ?g ?title ORDER BY DESC(?n) ?g
"""
_BY_CLASS = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {
  ?s a ?class .
  FILTER(STRSTARTS(STR(?s), STR(id:)))
} GROUP BY ?class ORDER BY DESC(?n) ?class
"""


@dataclass
class Stats:
    quads: int = 0
    graphs: list[tuple[str, str | None, int]] = field(default_factory=list)
    classes: list[tuple[str, int]] = field(default_factory=list)


def stats(store: GraphStore) -> Stats:
    row = store.query(_COUNTS).rows[0]
    result = Stats(quads=int(row[0]))
    for g, title, n in store.query(_BY_GRAPH).rows:
        result.graphs.append((str(g), None if title is None else str(title), int(n)))
    for cls, n in store.query(_BY_CLASS).rows:
        result.classes.append((str(cls), int(n)))
    return result


def format_stats(s: Stats) -> str:
    lines = [f"{s.quads} statements in {len(s.graphs)} graphs", "", "Entities by class:"]
    lines += [f"  {n:6d}  {compact(c)}" for c, n in s.classes]
    lines += ["", "Statements by graph (source):"]
    lines += [f"  {n:6d}  {compact(g)}" + (f"  {t}" if t else "") for g, t, n in s.graphs]
    return "\n".join(lines)

"""What the store holds: triples, graphs (sources), entities by class, campuses by région."""

from __future__ import annotations

from dataclasses import dataclass, field

from .namespaces import compact
from .store import GraphStore

_COUNTS = """
SELECT (COUNT(*) AS ?quads) (COUNT(DISTINCT ?g) AS ?graphs) WHERE { GRAPH ?g { ?s ?p ?o } }
"""
# One row a graph: a graph titled in French and English is still one graph (its French title shown,
# else any), so the counts are grouped before the titles are joined.
_BY_GRAPH = """
SELECT ?g ?n (SAMPLE(?fr) AS ?title_fr) (SAMPLE(?any) AS ?title_any) WHERE {
  { SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g }
  OPTIONAL { ?g dcterms:title ?fr FILTER(LANGMATCHES(LANG(?fr), "fr")) }
  OPTIONAL { ?g dcterms:title ?any }
} GROUP BY ?g ?n ORDER BY DESC(?n) ?g
"""
_BY_CLASS = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {
  ?s a ?class .
  FILTER(STRSTARTS(STR(?s), STR(id:)))
} GROUP BY ?class ORDER BY DESC(?n) ?class
"""

# The documented path from a campus to the territories it lies in (see campuses-by-territory);
# overseas collectivités (Polynésie française...) are listed with the régions.
_BY_REGION = """
SELECT ?region (SAMPLE(?label) AS ?name) (COUNT(DISTINCT ?campus) AS ?n) WHERE {
  ?campus a cmq:Campus .
  OPTIONAL {
    ?campus (cmq:territory|schema:location)/geo:sfWithin* ?region .
    VALUES ?kind { cmq:Region cmq:OverseasCollectivity }
    ?region a ?kind .
    OPTIONAL { ?region rdfs:label ?label FILTER(LANG(?label) = "fr") }
  }
} GROUP BY ?region ORDER BY DESC(?n) ?name
"""


@dataclass
class Stats:
    quads: int = 0
    graphs: list[tuple[str, str | None, int]] = field(default_factory=list)
    classes: list[tuple[str, int]] = field(default_factory=list)
    # (région IRI or None for campuses placed in no région, its name, number of campuses)
    regions: list[tuple[str | None, str | None, int]] = field(default_factory=list)


def stats(store: GraphStore) -> Stats:
    row = store.query(_COUNTS).rows[0]
    result = Stats(quads=int(row[0]))
    for g, n, title_fr, title_any in store.query(_BY_GRAPH).rows:
        title = title_fr if title_fr is not None else title_any
        result.graphs.append((str(g), None if title is None else str(title), int(n)))
    for cls, n in store.query(_BY_CLASS).rows:
        result.classes.append((str(cls), int(n)))
    for region, name, n in store.query(_BY_REGION).rows:
        if int(n):
            result.regions.append(
                (None if region is None else str(region), None if name is None else str(name), int(n))
            )
    return result


def format_stats(s: Stats) -> str:
    lines = [f"{s.quads} statements in {len(s.graphs)} graphs", "", "Entities by class:"]
    lines += [f"  {n:6d}  {compact(c)}" for c, n in s.classes]
    lines += ["", "Campuses by région (a campus in several is counted in each):"]
    lines += [
        f"  {n:6d}  "
        + (f"{name or ''}  {compact(r)}" if r else "in no région (no territory or site leads to one)")
        for r, name, n in s.regions
    ]
    lines += ["", "Statements by graph (source):"]
    lines += [f"  {n:6d}  {compact(g)}" + (f"  {t}" if t else "") for g, t, n in s.graphs]
    return "\n".join(lines)

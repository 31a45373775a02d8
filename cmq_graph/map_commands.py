"""``cmq-graph map`` (interactive HTML and static pictures) and ``cmq-graph network`` (figures).

Both read the store through SPARQL only (see :mod:`cmq_graph.network`), so they would work the
same on a remote endpoint; here they open the embedded store, in memory for speed.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from dataclasses import asdict
from pathlib import Path

from . import atlas, maps, network
from .commands import add_store_option, store_root
from .errors import QueryError
from .store import EmbeddedStore

NETWORK_VIEWS = ("summary", "centrality", "bridges", "communities", "components", "shared-partners")


# -- map -------------------------------------------------------------------------------------


def _default_output(args: argparse.Namespace) -> Path:
    suffix = args.campus or args.region or args.academie or args.departement
    stem = f"carte-{args.kind}" + (f"-{suffix}" if suffix else "")
    return Path(stem.replace("/", "_").replace(":", "_") + ".html")


def _atlas(args: argparse.Namespace, output: Path) -> int:
    if output.suffix.lower() != ".html":
        raise QueryError(f"l'atlas est une page .html, pas {output.suffix or 'un fichier sans extension'}")
    with EmbeddedStore.open(store_root(args), in_memory=True) as store:
        made = atlas.build_atlas(store)
    atlas.write_html(made, output)
    counts = atlas.summary(made)
    print(
        f"Atlas des campus : {counts['campus']} campus dont {counts['placés']} placés sur la carte, "
        f"{counts['sources']} sources"
    )
    print(f"  écrit {output}")
    return 0


def _map(args: argparse.Namespace) -> int:
    output: Path = args.output or _default_output(args)
    if args.kind == "atlas":
        return _atlas(args, output)
    with EmbeddedStore.open(store_root(args), in_memory=True) as store:
        model = maps.build_map(
            store,
            args.kind,
            campus=args.campus,
            region=args.region,
            academie=args.academie,
            departement=args.departement,
            lang=args.lang,
            size_by=args.size,
        )
    written = []
    if output.suffix.lower() in {".png", ".svg"}:
        written.append(maps.render_static(model, output))
    else:
        written.append(maps.write_html(model, output))
        if args.png:
            written.append(maps.render_static(model, output.with_suffix(".png")))
        if args.svg:
            written.append(maps.render_static(model, output.with_suffix(".svg")))
    g = model.graph
    nodes, links = g.number_of_nodes(), g.number_of_edges()
    if args.lang == "fr":  # the maps' users read French; the summary speaks the map's language
        print(f"{model.title} : {nodes} nœuds, {links} liens")
        wrote = "écrit"
    else:
        print(f"{model.title}: {nodes} nodes, {links} links")
        wrote = "wrote"
    for path in written:
        print(f"  {wrote} {path}")
    return 0


# -- network ---------------------------------------------------------------------------------


def _rows(report: network.NetworkReport, view: str, top: int | None) -> tuple[list[str], list[list]]:
    """Header and rows of one view of the report, for the table and CSV outputs."""
    if view == "summary":
        return ["measure", "value"], [
            ["nodes", report.nodes],
            ["links", report.edges],
            ["campuses", report.campuses],
            ["components", len(report.components)],
            ["largest component", len(report.components[0]) if report.components else 0],
            ["communities", len(report.communities)],
            ["bridging members (2+ campuses)", len(report.bridges)],
            ["campus pairs sharing partners", len(report.shared_partners)],
        ]
    if view == "centrality":
        rows = [
            [s.label, s.category, s.degree, f"{s.degree_centrality:.4f}", f"{s.betweenness:.4f}", s.iri]
            for s in report.centrality
        ]
        head = ["name", "category", "degree", "degree_centrality", "betweenness", "iri"]
    elif view == "bridges":
        rows = [
            [b.label, b.category, b.campuses, f"{b.betweenness:.4f}", "; ".join(b.campus_labels), b.iri]
            for b in report.bridges
        ]
        head = ["name", "category", "campuses", "betweenness", "campus_names", "iri"]
    elif view == "communities":
        rows = [[c.index, c.size, "; ".join(c.campuses), "; ".join(c.members)] for c in report.communities]
        head = ["community", "size", "campuses", "members"]
    elif view == "components":
        rows = [[i, len(c), "; ".join(c)] for i, c in enumerate(report.components, 1)]
        head = ["component", "size", "iris"]
    else:
        rows = [
            [s.source_label, s.target_label, s.shared, "; ".join(s.partners)] for s in report.shared_partners
        ]
        head = ["campus", "campus", "shared", "partners"]
    return head, rows[:top] if top else rows


def format_table(head: list[str], rows: list[list]) -> str:
    """Aligned columns for a terminal; long cells are cut so a row stays on one line."""
    cells = [[str(c) if len(str(c)) <= 60 else str(c)[:59] + "…" for c in row] for row in [head, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _network(args: argparse.Namespace) -> int:
    with EmbeddedStore.open(store_root(args), in_memory=True) as store:
        g = network.membership_graph(store, lang=args.lang)
    report = network.analyse(g, seed=args.seed)
    if args.format == "json":
        full = asdict(report)
        if args.view == "summary":
            payload = full
        else:
            payload = {args.view: full[args.view.replace("-", "_")][: args.top or None]}
        text = json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
    else:
        head, rows = _rows(report, args.view, args.top)
        if args.format == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(head)
            writer.writerows(rows)
            text = buffer.getvalue()
        else:
            text = format_table(head, rows) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def add_parser(subs: argparse._SubParsersAction) -> None:
    p = subs.add_parser(
        "map",
        help="draw an interactive map (offline HTML) or a picture (PNG/SVG) of the network",
        description="Draw a self-contained HTML map (opens offline in any browser) of the campuses "
        "and their members. Kinds: overview, campus (--campus ID), shared-partners, territory "
        "(--region ID, --academie ID or --departement ID), governance, and atlas (campuses on a map "
        "of France with indicators).",
    )
    p.add_argument("kind", choices=(*maps.MAP_KINDS, "atlas"), help="which map (atlas: the map of France)")
    p.add_argument("--campus", help="campus id (as in data/campuses.csv) or IRI, for the campus map")
    p.add_argument("--region", help="région id (as in data/territories.csv) or IRI, for the territory map")
    p.add_argument("--academie", help="académie id or IRI, for the territory map")
    p.add_argument("--departement", help="département id or IRI, for the territory map")
    p.add_argument("-o", "--output", type=Path, help="file to write: .html (default), .png or .svg")
    p.add_argument("--lang", choices=sorted(maps.TEXT), default="fr", help="language of names and texts")
    p.add_argument("--size", choices=("degree", "betweenness"), default="degree", help="what node size shows")
    p.add_argument("--png", action="store_true", help="also write a PNG picture beside the HTML")
    p.add_argument("--svg", action="store_true", help="also write an SVG picture beside the HTML")
    add_store_option(p)
    p.set_defaults(func=_map)

    p = subs.add_parser(
        "network",
        help="network figures: centrality, bridging partners, communities, components, shared partners",
        description="Analyse the network of campuses and their members (networkx).",
    )
    p.add_argument("view", nargs="?", choices=NETWORK_VIEWS, default="summary", help="what to show")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--top", type=int, default=None, help="only the first N rows")
    p.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    p.add_argument("--lang", choices=sorted(maps.TEXT), default="fr", help="language of names")
    p.add_argument("--seed", type=int, default=42, help="seed of the community detection")
    add_store_option(p)
    p.set_defaults(func=_network)

"""Large-map benchmark: a national-scale synthetic network in headless Chromium (not a test).

    .venv/bin/python benchmarks/maps_bench.py [--campuses 320] [--cap 120]
    .venv/bin/python benchmarks/maps_bench.py --atlas 200,2000 [--cap 120]

``--atlas SIZES``: the atlas and the national overview map on ``cmq-graph synth`` graphs of each
size (campuses), built without SHACL validation: Python time to query and write each page, and
in Chromium the first view (navigation to ready), the latency of a filter (each of up to 10
régions, then clear), of a click on a région and of opening a campus fiche (each until the next
frame is painted), and for the overview the first drawn frame, a search and a click. Results go
to ``benchmarks/results/atlas.json`` and ``atlas.md``. Targets at 200 campuses: first view < 1 s,
every filter or click < 100 ms.

What it measures, on one synthetic graph (≥ 5,000 nodes, ≥ 15,000 links), in the same run:

* **cmq-graph map**: time to query and lay out the map in Python, HTML size, and in Chromium the
  time from navigation to the first drawn frame (``afterDrawing``: the map is on screen and
  answers the mouse), then how long a search takes to redraw;
* **baseline, pyvis defaults**: the same graph written by pyvis (``in_line`` resources, default
  Barnes-Hut physics, no positions), time from navigation to the first frame and to
  ``stabilized``; each wait is capped (``--cap`` seconds) and reported as ``≥ cap`` when not done.
  Its CDN requests (Bootstrap) are refused, as they would fail offline.

The graph is synthetic and kept apart from the real data: its own IRIs (``…/id/*/bench-…``),
one source titled as fictitious, an in-memory store thrown away after the run. Results go to
``benchmarks/results/maps.json`` and ``maps.md``; pages and screenshots to ``benchmarks/out/``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cmq_graph import atlas, maps, synth  # noqa: E402
from cmq_graph.build import build  # noqa: E402
from cmq_graph.store import EmbeddedStore  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "maps"
RESULTS = ROOT / "benchmarks" / "results"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
BASE = "https://w3id.org/cmq/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
ORG = "http://www.w3.org/ns/org#"
CMQ = BASE + "def#"
GEO = "http://www.opengis.net/ont/geosparql#"
REGIONS = {  # INSEE code: name, lat, lon
    "11": ("Île-de-France", 48.71, 2.50),
    "24": ("Centre-Val de Loire", 47.48, 1.68),
    "27": ("Bourgogne-Franche-Comté", 47.24, 4.81),
    "28": ("Normandie", 49.12, 0.11),
    "32": ("Hauts-de-France", 49.97, 2.78),
    "44": ("Grand Est", 48.69, 5.61),
    "52": ("Pays de la Loire", 47.47, -0.82),
    "53": ("Bretagne", 48.18, -2.84),
    "75": ("Nouvelle-Aquitaine", 45.19, 0.19),
    "76": ("Occitanie", 43.70, 2.14),
    "84": ("Auvergne-Rhône-Alpes", 45.51, 4.54),
    "93": ("Provence-Alpes-Côte d'Azur", 43.96, 6.06),
}
KINDS = [
    ("school-kind/lycee", "lycée"),
    ("school-kind/universite", "université"),
    ("partner-kind/entreprise", "entreprise"),
    ("partner-kind/branche", "branche professionnelle"),
    ("body-kind/collectivite", "collectivité"),
]
SECTORS = ["transports", "numerique", "energie", "sante", "industrie", "tourisme"]


def synthetic_quads(campuses: int, organisations: int, per_campus: int, seed: int = 7) -> list[ox.Quad]:
    """A seeded national-looking membership network: Zipf-popular national partners + local ones."""
    rng = random.Random(seed)
    graph = ox.NamedNode(BASE + "id/source/bench-synthetic")
    meta = ox.NamedNode(BASE + "graph/meta")
    quads: list[ox.Quad] = []

    def add(s: str, p: str, o: ox.NamedNode | ox.Literal, g: ox.NamedNode = graph) -> None:
        quads.append(ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, g))

    add(
        graph.value,
        "http://purl.org/dc/terms/title",
        ox.Literal("Données synthétiques du banc d'essai (fictives)"),
        meta,
    )
    for code, label in KINDS:
        add(BASE + "vocab/" + code, SKOS_PREF, ox.Literal(label, language="fr"))
    for code in SECTORS:
        add(BASE + "vocab/sector/" + code, SKOS_PREF, ox.Literal(code, language="fr"))
    add(BASE + "vocab/role/membre", SKOS_PREF, ox.Literal("membre", language="fr"))
    for code, (name, lat, lon) in REGIONS.items():
        region = f"{BASE}id/territory/bench-region-{code}"
        add(region, RDF_TYPE, ox.NamedNode(CMQ + "Region"))
        add(region, RDFS_LABEL, ox.Literal(name, language="fr"))
        add(region, GEO + "hasGeometry", ox.NamedNode(region + "/geometry"))
        add(
            region + "/geometry",
            GEO + "asWKT",
            ox.Literal(f"POINT({lon} {lat})", datatype=ox.NamedNode(GEO + "wktLiteral")),
        )
    national = max(1, organisations // 16)
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(national)]
    orgs = []
    for i in range(organisations):
        org = f"{BASE}id/organisation/bench-{i}"
        orgs.append(org)
        kind, label = KINDS[2] if i < national else KINDS[rng.randrange(len(KINDS))]
        add(org, RDF_TYPE, ox.NamedNode(ORG + "Organization"))
        add(org, CMQ + "kind", ox.NamedNode(BASE + "vocab/" + kind))
        add(org, RDFS_LABEL, ox.Literal(f"{label.capitalize()} fictif n° {i}", language="fr"))
        add(org, CMQ + "siren", ox.Literal(f"{100000000 + i}"))
    local = orgs[national:]
    regions = list(REGIONS)
    links = 0
    for c in range(campuses):
        campus = f"{BASE}id/campus/bench-{c}"
        add(campus, RDF_TYPE, ox.NamedNode(CMQ + "Campus"))
        add(campus, RDFS_LABEL, ox.Literal(f"Campus fictif n° {c}", language="fr"))
        add(campus, CMQ + "sector", ox.NamedNode(BASE + "vocab/sector/" + SECTORS[c % len(SECTORS)]))
        add(
            campus,
            CMQ + "territory",
            ox.NamedNode(f"{BASE}id/territory/bench-region-{regions[c % len(regions)]}"),
        )
        shared = max(1, per_campus * 3 // 10)
        members = set(rng.choices(orgs[:national], weights=weights, k=shared))
        start = c * (per_campus - shared)
        members.update(local[(start + j) % len(local)] for j in range(per_campus - shared))
        for m in sorted(members):
            link = f"{BASE}id/membership/bench-{links}"
            links += 1
            add(link, RDF_TYPE, ox.NamedNode(ORG + "Membership"))
            add(link, ORG + "member", ox.NamedNode(m))
            add(link, ORG + "organization", ox.NamedNode(campus))
            add(link, ORG + "role", ox.NamedNode(BASE + "vocab/role/membre"))
            add(link, "https://schema.org/startDate", ox.Literal(str(2014 + links % 10)))
    return quads


def pyvis_baseline(model: maps.MapModel, path: Path) -> Path:
    """The same graph as pyvis writes it by default (physics on, no positions), instrumented."""
    from pyvis.network import Network

    net = Network(height="900px", width="100%", cdn_resources="in_line")
    index = {v: i for i, v in enumerate(model.graph)}
    for v, data in model.graph.nodes(data=True):
        net.add_node(index[v], label=data["label"], title=data["label"], size=model.sizes[v] / 2)
    for a, b in model.graph.edges:
        net.add_edge(index[a], index[b])
    net.write_html(str(path), notebook=False)
    html = path.read_text(encoding="utf-8")
    call = "network = new vis.Network(container, data, options);"
    if call not in html:
        raise RuntimeError("pyvis template changed: cannot instrument the baseline")
    html = html.replace(
        call,
        call + " window.__constructed = performance.now();"
        " network.once('afterDrawing', function () { window.__drawn = performance.now(); });"
        " network.once('stabilized', function () { window.__stable = performance.now(); });",
    )
    path.write_text(html, encoding="utf-8")
    return path


def _launch(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def _offline_context(browser, refused: list[str]):
    context = browser.new_context(viewport={"width": 1400, "height": 900})

    def route(r) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return context


def measure_ours(pw, path: Path, cap: float) -> dict:
    browser = _launch(pw)
    refused: list[str] = []
    errors: list[str] = []
    try:
        context = _offline_context(browser, refused)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        wall = time.perf_counter()
        page.goto(path.as_uri(), timeout=cap * 1000)
        page.wait_for_function("window.cmqMap && window.cmqMap.ready", timeout=cap * 1000)
        wall = time.perf_counter() - wall
        drawn = page.evaluate("cmqMap.drawnAt") / 1000
        search = page.evaluate(
            """() => new Promise(resolve => {
                 const t0 = performance.now();
                 cmqMap.network.once('afterDrawing', () => resolve(performance.now() - t0));
                 cmqMap.search('lycée');
               })"""
        )
        counts = page.evaluate("[cmqMap.nodesView.length, cmqMap.edgesView.length]")
        page.screenshot(path=str(OUT / "national-cmq-graph.png"))
        return {
            "time_to_first_draw_s": round(drawn, 2),
            "wall_navigation_to_ready_s": round(wall, 2),
            "search_redraw_s": round(search / 1000, 3),
            "nodes_drawn": counts[0],
            "edges_drawn": counts[1],
            "console_errors": errors,
            "refused_requests": refused,
        }
    finally:
        browser.close()


def measure_pyvis(pw, path: Path, cap: float) -> dict:
    browser = _launch(pw)
    refused: list[str] = []
    result: dict = {"cap_s": cap}
    try:
        context = _offline_context(browser, refused)
        page = context.new_page()
        start = time.perf_counter()
        page.goto(path.as_uri(), timeout=cap * 1000, wait_until="commit")
        for key, expression in (
            ("time_to_first_draw_s", "window.__drawn"),
            ("time_to_stabilized_s", "window.__stable"),
        ):
            remaining = cap - (time.perf_counter() - start)
            try:
                if remaining <= 0:
                    raise TimeoutError
                page.wait_for_function(f"{expression} !== undefined", timeout=remaining * 1000, polling=200)
                result[key] = round(page.evaluate(expression) / 1000, 2)
            except Exception:  # Playwright's TimeoutError, or the page hung
                result[key] = f">= {cap:g}"
        if isinstance(result.get("time_to_first_draw_s"), float):
            page.screenshot(path=str(OUT / "national-pyvis-physics.png"), timeout=30_000)
    except Exception as exc:  # a hung page must not lose the other numbers
        result.setdefault("time_to_first_draw_s", f">= {cap:g}")
        result.setdefault("time_to_stabilized_s", f">= {cap:g}")
        result["error"] = type(exc).__name__
    finally:
        browser.close()
    result["refused_requests"] = sorted(set(refused))
    return result


# -- the atlas and the national overview at 200 and 2,000 synthetic campuses -------------------


def painted(page, action: str) -> float:
    """Milliseconds from running ``action`` (a JS function's text) to the next painted frame."""
    return page.evaluate(
        "new Promise(resolve => { const t0 = performance.now(); (" + action + ")();"
        " requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0))); })"
    )


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[len(ordered) // 2], 1) if ordered else float("nan")


def measure_atlas(pw, path: Path, cap: float) -> dict:
    browser = _launch(pw)
    refused: list[str] = []
    try:
        page = _offline_context(browser, refused).new_page()
        wall = time.perf_counter()
        page.goto(path.as_uri(), timeout=cap * 1000)
        page.wait_for_function("window.cmqAtlas && window.cmqAtlas.ready", timeout=cap * 1000)
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        wall = time.perf_counter() - wall
        regions = page.evaluate(
            "Array.from(document.querySelectorAll('#f-region option'))"
            ".map(o => o.value).filter(Boolean).slice(0, 10)"
        )
        filters = [
            painted(page, f"() => {{ cmqAtlas.state.region = {json.dumps(r)}; cmqAtlas.update(true); }}")
            for r in regions
        ]
        filters.append(painted(page, "() => { cmqAtlas.state.region = ''; cmqAtlas.update(true); }"))
        areas = page.evaluate("document.querySelectorAll('#map path.area').length")
        clicks = [
            painted(
                page,
                f"() => document.querySelectorAll('#map path.area')[{i}]"
                " .dispatchEvent(new MouseEvent('click'))",
            )
            for i in range(0, areas, max(1, areas // 10))
        ]
        fiches = [painted(page, f"() => cmqAtlas.openCampus({i})") for i in range(0, 10)]
        page.screenshot(path=str(OUT / f"atlas-{path.stem}.png"))
        return {
            "first_view_s": round(wall, 3),
            "script_first_view_ms": round(page.evaluate("cmqAtlas.firstView"), 1),
            "filter_ms_median": _median(filters),
            "filter_ms_max": round(max(filters), 1),
            "area_click_ms_median": _median(clicks),
            "area_click_ms_max": round(max(clicks), 1),
            "fiche_ms_median": _median(fiches),
            "fiche_ms_max": round(max(fiches), 1),
            "refused_requests": refused,
        }
    finally:
        browser.close()


def measure_overview(pw, path: Path, cap: float) -> dict:
    browser = _launch(pw)
    refused: list[str] = []
    try:
        page = _offline_context(browser, refused).new_page()
        wall = time.perf_counter()
        page.goto(path.as_uri(), timeout=cap * 1000)
        page.wait_for_function("window.cmqMap && window.cmqMap.ready", timeout=cap * 1000)
        wall = time.perf_counter() - wall
        search = painted(page, "() => cmqMap.search('lycee')")
        clear = painted(page, "() => cmqMap.search('')")
        click = painted(page, "() => cmqMap.select(0)")
        unclick = painted(page, "() => cmqMap.select(null)")
        date = painted(page, "() => cmqMap.setDate('2015-01-01')")
        return {
            "first_draw_s": round(page.evaluate("cmqMap.drawnAt") / 1000, 3),
            "wall_navigation_to_ready_s": round(wall, 3),
            "search_ms": round(search, 1),
            "clear_search_ms": round(clear, 1),
            "click_ms": round(click, 1),
            "unclick_ms": round(unclick, 1),
            "date_change_ms": round(date, 1),
            "nodes": page.evaluate("cmqMap.nodes.length"),
            "edges": page.evaluate("cmqMap.edges.length"),
            "refused_requests": refused,
        }
    except Exception as exc:  # a page that does not finish within the cap is reported, not fatal
        return {"error": f"{type(exc).__name__} (cap {cap:g} s)"}
    finally:
        browser.close()


def bench_atlas(sizes: list[int], cap: float, overview_limit: int) -> dict:
    import tempfile

    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "sizes": {},
    }
    for n in sizes:
        entry: dict = {}
        with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
            root = Path(tmp)
            t = time.perf_counter()
            synth.write(root / "data", synth.SynthConfig(campuses=n))
            build(root / "data", ROOT / "ontology", root / "store", validate=False, say=lambda _m: None)
            entry["generate_and_build_s"] = round(time.perf_counter() - t, 1)
            with EmbeddedStore.open(root / "store", in_memory=True) as store:
                entry["triples"] = len(store) if hasattr(store, "__len__") else None
                t = time.perf_counter()
                made = atlas.build_atlas(store)
                entry["atlas_query_s"] = round(time.perf_counter() - t, 2)
                page = atlas.write_html(made, OUT / f"atlas-{n}.html")
                entry["atlas_html_bytes"] = page.stat().st_size
                overview = None
                if n <= overview_limit:
                    t = time.perf_counter()
                    model = maps.build_map(store, "overview")
                    entry["overview_query_and_layout_s"] = round(time.perf_counter() - t, 2)
                    overview = maps.write_html(model, OUT / f"overview-{n}.html")
                    entry["overview_html_bytes"] = overview.stat().st_size
        with sync_playwright() as pw:
            entry["atlas"] = measure_atlas(pw, page, cap)
            if overview is not None:
                entry["overview"] = measure_overview(pw, overview, cap)
        report["sizes"][str(n)] = entry
        print(json.dumps({n: entry}, indent=2), flush=True)
    return report


def atlas_markdown(r: dict) -> str:
    lines = [
        "# Atlas and national overview in Chromium (benchmarks/maps_bench.py --atlas)",
        "",
        f"Synthetic national graphs (`cmq-graph synth`), headless Chromium, {r['machine']['platform']}. "
        "Latencies run until the next painted frame. Targets at 200 campuses: first view < 1 s, "
        "filter or click < 100 ms.",
        "",
        "| campuses | atlas first view | filter (median / max) | région click | fiche "
        "| overview first draw | search | click |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, e in r["sizes"].items():
        a, o = e["atlas"], e.get("overview", {})
        lines.append(
            f"| {n} | {a['first_view_s']} s | {a['filter_ms_median']} / {a['filter_ms_max']} ms | "
            f"{a['area_click_ms_median']} ms | {a['fiche_ms_median']} ms | "
            f"{o.get('first_draw_s', o.get('error', '—'))} s | {o.get('search_ms', '—')} ms | "
            f"{o.get('click_ms', '—')} ms |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--campuses", type=int, default=330)
    ap.add_argument("--organisations", type=int, default=5000)
    ap.add_argument("--per-campus", type=int, default=50)
    ap.add_argument("--cap", type=float, default=120.0, help="seconds to wait for each browser milestone")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--atlas", help="campus counts for the atlas and overview benchmark, e.g. 200,2000")
    ap.add_argument("--overview-limit", type=int, default=2000, help="largest size whose overview is drawn")
    args = ap.parse_args(argv)
    if args.atlas:
        RESULTS.mkdir(parents=True, exist_ok=True)
        report = bench_atlas([int(n) for n in args.atlas.split(",")], args.cap, args.overview_limit)
        (RESULTS / "atlas.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (RESULTS / "atlas.md").write_text(atlas_markdown(report), encoding="utf-8")
        print(f"wrote {RESULTS / 'atlas.json'} and {RESULTS / 'atlas.md'}")
        return 0
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    store = EmbeddedStore.from_quads(synthetic_quads(args.campuses, args.organisations, args.per_campus))
    generate_s = time.perf_counter() - t
    t = time.perf_counter()
    model = maps.build_map(store, "overview")
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    page = maps.write_html(model, OUT / "national-cmq-graph.html")
    render_s = time.perf_counter() - t
    t = time.perf_counter()
    maps.render_static(model, OUT / "national-cmq-graph.png")
    static_s = time.perf_counter() - t
    g = model.graph
    report: dict = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "chromium": CHROMIUM,
        },
        "graph": {"nodes": g.number_of_nodes(), "edges": g.number_of_edges(), "triples": len(store)},
        "python": {
            "generate_store_s": round(generate_s, 2),
            "query_and_layout_s": round(build_s, 2),
            "render_html_s": round(render_s, 2),
            "static_png_s": round(static_s, 2),
        },
        "html_bytes": page.stat().st_size,
    }
    print(json.dumps(report, indent=2), flush=True)
    with sync_playwright() as pw:
        report["cmq_graph_map"] = measure_ours(pw, page, args.cap)
        print(json.dumps(report["cmq_graph_map"], indent=2), flush=True)
        if not args.skip_baseline:
            baseline = pyvis_baseline(model, OUT / "national-pyvis-physics.html")
            report["pyvis_default_physics"] = measure_pyvis(pw, baseline, args.cap)
            report["pyvis_default_physics"]["html_bytes"] = baseline.stat().st_size
            print(json.dumps(report["pyvis_default_physics"], indent=2), flush=True)
    (RESULTS / "maps.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (RESULTS / "maps.md").write_text(markdown(report), encoding="utf-8")
    print(f"wrote {RESULTS / 'maps.json'} and {RESULTS / 'maps.md'}")
    return 0


def markdown(r: dict) -> str:
    ours = r["cmq_graph_map"]
    base = r.get("pyvis_default_physics", {})
    mb = r["html_bytes"] / 1e6
    py = r["python"]
    first, settled = base.get("time_to_first_draw_s", "—"), base.get("time_to_stabilized_s", "—")
    refused = len(base.get("refused_requests", []))
    lines = [
        "# Large-map benchmark (benchmarks/maps_bench.py)",
        "",
        f"Synthetic national-scale network: **{r['graph']['nodes']:,} nodes, {r['graph']['edges']:,} links** "
        f"({r['graph']['triples']:,} quads), headless Chromium, {r['machine']['platform']}.",
        "",
        "| | cmq-graph map (layout in Python, physics off) | pyvis defaults (physics on) |",
        "|---|---|---|",
        f"| HTML size | {mb:.2f} MB | {base.get('html_bytes', 0) / 1e6:.2f} MB |",
        f"| navigation → first drawn frame | {ours['time_to_first_draw_s']} s | {first} s |",
        f"| navigation → layout settled | same (no physics) | {settled} s |",
        f"| search → redrawn | {ours['search_redraw_s']} s | — |",
        f"| requests outside file:// | {len(ours['refused_requests'])} | {refused} (refused) |",
        "",
        f"Python side: query + layout {py['query_and_layout_s']} s, HTML {py['render_html_s']} s, "
        f"PNG {py['static_png_s']} s. Waits capped at {base.get('cap_s', '—')} s (≥ cap: not reached).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

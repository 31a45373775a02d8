"""The benchmark: cmq-graph against plain rdflib (+ pySHACL) and Virtuoso, from small to large.

One command::

    .venv/bin/python -m benchmarks.run            # full: curated, ~10k, ~100k, ~1M triples (<30 min)
    .venv/bin/python -m benchmarks.run --smoke    # CI: curated, ~10k and ~20k triples (≈ 3 min)
    .venv/bin/python -m benchmarks.run --with-10m # also 10M triples, cmq-graph alone

For each size it writes synthetic curated tables (:mod:`cmq_graph.synth`, under
``benchmarks/out/``, never ``data/``), then measures each engine in a subprocess of its own
(:mod:`benchmarks.worker`): build by stage, load rate, store size, every catalogue query cold and
warm, and the subprocess's peak RSS. Ratios engine / cmq-graph are computed pair by pair within
the run (the machine is shared and noisy: absolute seconds are context, ratios are the result),
and every query's answer is compared across engines: a fast wrong answer is not a result.

Results go to ``benchmarks/results/``: ``report.md``, ``report.json`` and ``scaling.png``
(``smoke-*`` in smoke mode).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cmq_graph import catalog, paths
from cmq_graph.namespaces import ID
from cmq_graph.synth import PREFIX, SynthConfig, campuses_for_triples, write

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
WORK = HERE / "out"
ENGINES = ("cmq", "virtuoso", "rdflib")
LABELS = {
    "cmq": "cmq-graph (Oxigraph on disk)",
    "cmq-mem": "cmq-graph (Oxigraph in memory)",
    "rdflib": "rdflib + pySHACL (in memory)",
    "virtuoso": "Virtuoso 7 (loopback)",
}
# Nominal triples of each size (the curated graph's, for the caps: about 26k). A synthetic graph
# holds at least the fixed part (ontology, vocabularies, territories: cmq_graph.synth.FIXED_TRIPLES,
# about 8.8k) and one campus, so no size is below 10k.
SIZES = {"curated": 26_000, "10k": 10_000, "20k": 20_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}


@dataclass
class Settings:
    """What one run measures; the defaults are the full run."""

    sizes: list[str] = field(default_factory=lambda: ["curated", "10k", "100k", "1m"])
    engines: list[str] = field(default_factory=lambda: list(ENGINES))
    repeats: int = 3
    timeout: float = 20.0  # one query run, any engine
    total_query_budget: float = 150.0  # all queries of one engine at one size
    query_budget: float = 5.0  # after one warm run, warm repeats of one query stop beyond this
    # pySHACL (the rdflib pipeline) runs up to this size and is estimated above it: about 1 ms a
    # triple with the project's shapes, 14 min at 1M, half this run's budget. cmq-graph always
    # validates.
    pyshacl_cap: int = 100_000
    rdflib_cap: int = 1_000_000
    virtuoso_cap: int = 1_000_000
    cmq_only_above: int = 1_000_000
    worker_timeout: float = 1500.0
    seed: int = 1
    prefix: str = ""
    in_memory: bool = True  # cmq-graph's queries also on the store copied into memory...
    in_memory_cap: int = 100_000  # ...up to this size (the 1M copy and its queries: 2 min more)
    smoke: bool = False
    ontology: str = str(paths.ONTOLOGY_DIR)
    work: str = str(WORK)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- inputs ---------------------------------------------------------------------------------


def prepare_data(size: str, settings: Settings) -> dict[str, Any] | None:
    """The data folder for ``size``: the project's ``data/``, or synthetic tables written for it."""
    if size == "curated":
        if not (paths.DATA_DIR / "sources.csv").exists():
            return None
        return {"size": size, "data": str(paths.DATA_DIR), "synthetic": False, "campuses": None}
    target = SIZES[size]
    campuses = campuses_for_triples(target)
    folder = Path(settings.work) / f"data-{size}-seed{settings.seed}"
    marker = folder / ".complete"
    cfg = SynthConfig(campuses=campuses, seed=settings.seed)
    if not (marker.exists() and marker.read_text() == repr(cfg)):
        shutil.rmtree(folder, ignore_errors=True)
        start = time.perf_counter()
        write(folder, cfg)
        marker.write_text(repr(cfg))
        log(f"  synthetic {size}: {campuses} campuses written in {time.perf_counter() - start:.1f} s")
    return {"size": size, "data": str(folder), "synthetic": True, "campuses": campuses}


def _csv(folder: Path, table: str) -> list[dict[str, str]]:
    path = folder / f"{table}.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def synthetic_stand_in(folder: Path, kind: str, key: str) -> str | None:
    """A synthetic entity to put where a query's default names a curated one.

    The same key under ``synth-`` if it exists (``region-28``), else the most connected entity of
    that kind (a campus with many members, the most popular partner): the heavy case, not an
    empty answer.
    """
    tables = {"campus": "campuses", "organisation": "organisations", "territory": "territories"}
    table = tables.get(
        kind, {"label": "labels", "labelling": "labellings", "membership": "memberships"}.get(kind)
    )
    if table is None:
        return None
    ids = [r["id"] for r in _csv(folder, table)]
    if f"{PREFIX}{key}" in ids:
        return f"{PREFIX}{key}"
    members = _csv(folder, "memberships")
    if kind == "organisation":
        return Counter(m["member"] for m in members).most_common(1)[0][0] if members else None
    if kind == "campus":
        return Counter(m["organisation"] for m in members).most_common(1)[0][0] if members else None
    if kind == "territory":
        words = [w for w in ("region", "academie", "departement", "commune") if key.startswith(w)]
        for ident in ids:
            if words and ident.startswith(f"{PREFIX}{words[0]}"):
                return ident
    return ids[0] if ids else None


def query_plan(dataset: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Every catalogue query runnable on this data, with its parameters; and the ones left out."""
    plan, skipped = [], []
    folder = Path(dataset["data"])
    for name, q in sorted(catalog.catalogue().items()):
        if any(p.required for p in q.params):
            skipped.append(f"{name}: required parameter without default")
            continue
        params: dict[str, str] = {}
        if dataset["synthetic"]:
            for p in q.params:
                if p.type not in ("iri", "term") or p.default is None:
                    continue
                try:
                    iri = str(catalog.expand_iri(p.default))
                except Exception:
                    continue
                if not iri.startswith(ID):
                    continue
                kind, _, key = iri[len(ID) :].partition("/")
                stand_in = synthetic_stand_in(folder, kind, key)
                if stand_in:
                    params[p.name] = f"<{ID}{kind}/{stand_in}>"
        plan.append({"name": name, "params": params})
    return plan, skipped


def engine_plan(
    plan: list[dict[str, Any]], previous: dict[str, Any] | None, engine: str
) -> list[dict[str, Any]]:
    """The plan for one engine, ordered by its results at the previous (smaller) size: answers
    under 1,000 rows first (the 10M target is about them), then the cheapest, so that a spent
    query budget leaves out the costly many-row queries; a query that timed out there is not
    rerun (it is carried over as a timeout, a bound)."""
    before = _answers(previous).get(engine, {}) if previous else {}
    size = previous["dataset"]["size"] if previous else ""
    keyed = []
    for item in plan:
        entry = before.get(item["name"], {})
        if entry.get("timeout"):
            item = {**item, "carried": f"timeout at {size}, not rerun"}
        keyed.append(((entry.get("rows", 0) >= 1000, entry.get("cold", 0.0)), dict(item)))
    return [item for _, item in sorted(keyed, key=lambda k: k[0])]


# -- running the workers --------------------------------------------------------------------


def run_worker(spec: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Run one engine in a subprocess; add its wall time and peak RSS (``wait4``'s ru_maxrss)."""
    work = Path(spec["work"])
    work.mkdir(parents=True, exist_ok=True)
    spec_path = work / f"{spec['engine']}-spec.json"
    spec["out"] = str(work / f"{spec['engine']}-result.json")
    spec_path.write_text(json.dumps(spec))
    Path(spec["out"]).unlink(missing_ok=True)
    start = time.perf_counter()
    with (work / f"{spec['engine']}-worker.log").open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", str(spec_path)],
            cwd=paths.PROJECT_ROOT,
            stdout=err,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(settings.worker_timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    out = Path(spec["out"])
    if out.exists():
        result = json.loads(out.read_text())
    else:
        tail = (work / f"{spec['engine']}-worker.log").read_text(errors="replace")[-2000:]
        why = (
            f"killed after {settings.worker_timeout:.0f} s" if killed.is_set() else f"exit {proc.returncode}"
        )
        result = {"ok": False, "error": f"worker {why}: {tail}"}
    result["wall"] = wall
    result["peak_rss_kib"] = usage.ru_maxrss  # kilobytes on Linux
    return result


def run_virtuoso(spec: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Start a fresh server for this size, run the Virtuoso worker, read the server's memory and
    database size, stop it."""
    from .virtuoso_engine import helper_module, peak_rss_kib, start_server

    if helper_module() is None or shutil.which("virtuoso-t") is None:
        return {"ok": False, "skipped": "Virtuoso not available (virtuoso-t or tests/virtuoso.py missing)"}
    server_dir = Path(spec["work"]) / "server"
    shutil.rmtree(server_dir, ignore_errors=True)
    server_dir.mkdir(parents=True)
    start = time.perf_counter()
    try:
        server = start_server(server_dir)
    except Exception as exc:
        return {"ok": False, "skipped": f"Virtuoso did not start: {exc}"[:500]}
    started = time.perf_counter() - start
    try:
        spec["virtuoso"] = {
            "sparql": server.sparql,
            "sparql_auth": server.sparql_auth,
            "graph_crud_auth": server.graph_crud_auth,
        }
        result = run_worker(spec, settings)
        result["client_peak_rss_kib"] = result.pop("peak_rss_kib", None)
        result["peak_rss_kib"] = peak_rss_kib(server.process.pid)
        result["server_start"] = started
        with contextlib.suppress(Exception):
            server.isql("checkpoint;", timeout=300)
        result["store_bytes"] = sum(
            p.stat().st_size for p in server.directory.glob("virtuoso*") if p.suffix in (".db", ".trx")
        )
    finally:
        server.stop()
        shutil.rmtree(server_dir, ignore_errors=True)
    return result


def measure_size(
    dataset: dict[str, Any], settings: Settings, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    size = dataset["size"]
    plan, skipped = query_plan(dataset)
    out: dict[str, Any] = {"dataset": dataset, "plan": plan, "skipped_queries": skipped, "engines": {}}
    base = {
        "data": dataset["data"],
        "ontology": settings.ontology,
        "plan": plan,
        "repeats": settings.repeats,
        "timeout": settings.timeout,
        "total_query_budget": settings.total_query_budget,
        "query_budget": settings.query_budget,
    }
    out["plan_timeout"] = base["timeout"]
    target = SIZES[size] or 0
    pyshacl = settings.pyshacl_cap > 0 and target <= settings.pyshacl_cap
    work = Path(settings.work) / f"run-{size}"
    shutil.rmtree(work, ignore_errors=True)
    engines = [e for e in settings.engines if e == "cmq" or target <= settings.cmq_only_above]

    log(f"{size}: cmq-graph (validation on)")
    cmq = run_worker(
        {
            **base,
            "plan": engine_plan(plan, previous, "cmq"),
            "engine": "cmq",
            "work": str(work / "cmq"),
            "validate": True,
        },
        settings,
    )
    cmq["validated"] = True
    if cmq.get("ok") and settings.in_memory and target <= settings.in_memory_cap:
        log(f"{size}: cmq-graph, store copied into memory")
        spec = {
            **base,
            "plan": engine_plan(plan, previous, "cmq-mem"),
            "engine": "cmq-mem",
            "work": str(work / "cmq"),
            "store_root": str(work / "cmq" / "store"),
        }
        mem = run_worker(spec, settings)
        cmq["in_memory_peak_rss_kib"] = mem.get("peak_rss_kib")
        cmq["in_memory_open"] = mem.get("in_memory_open")
        cmq["queries_in_memory"] = mem.get("queries") or {}
        if not mem.get("ok"):
            log(f"  in memory: {mem.get('error', '')[:300]}")
    out["engines"]["cmq"] = cmq
    if not cmq.get("ok"):
        log(f"  cmq-graph failed: {cmq.get('error', '')[:300]}")
    triples = cmq.get("triples") or target
    out["triples"] = triples
    if "virtuoso" in engines:
        if triples > settings.virtuoso_cap * 1.3:
            out["engines"]["virtuoso"] = {"ok": False, "skipped": "above the Virtuoso size cap"}
        elif not cmq.get("ok"):
            out["engines"]["virtuoso"] = {"ok": False, "skipped": "no cmq-graph store to publish"}
        else:
            log(f"{size}: Virtuoso")
            spec = {**base, "engine": "virtuoso", "work": str(work / "virtuoso"), "validate": False}
            spec["plan"] = engine_plan(plan, previous, "virtuoso")
            spec["store_root"] = str(work / "cmq" / "store")
            out["engines"]["virtuoso"] = run_virtuoso(spec, settings)
    if "rdflib" in engines:
        if triples > settings.rdflib_cap * 1.3:
            out["engines"]["rdflib"] = {"ok": False, "skipped": f"capped at {settings.rdflib_cap:,} triples"}
        else:
            log(f"{size}: rdflib (pySHACL {'on' if pyshacl else 'off, extrapolated'})")
            spec = {**base, "engine": "rdflib", "work": str(work / "rdflib"), "validate": pyshacl}
            spec["plan"] = engine_plan(plan, previous, "rdflib")
            rd = run_worker(spec, settings)
            rd["validated"] = pyshacl
            out["engines"]["rdflib"] = rd
    for name, res in out["engines"].items():
        if res.get("ok"):
            peak = (res.get("peak_rss_kib") or 0) / 1024
            log(f"  {name}: build {res.get('build_total') or 0:.1f} s, peak {peak:.0f} MiB")
        else:
            log(f"  {name}: {res.get('skipped') or res.get('error', '')[:300]}")
    out["equality"] = compare(out, work)
    return out


# -- analysis -------------------------------------------------------------------------------


def _answers(out: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """engine -> query -> entry, including cmq-graph's in-memory reads as engine ``cmq-mem``."""
    answers = {}
    for engine, res in out["engines"].items():
        if res.get("ok"):
            answers[engine] = res.get("queries", {})
            if engine == "cmq" and res.get("queries_in_memory"):
                answers["cmq-mem"] = res["queries_in_memory"]
    return answers


def _answer_file(work: Path, engine: str, name: str) -> Path:
    folder = "cmq" if engine == "cmq-mem" else engine
    return work / folder / ("answers-mem" if engine == "cmq-mem" else "answers") / f"{name}.json"


def differences(work: Path, engines: list[str], name: str, limit: int = 3) -> dict[str, list[str]]:
    """Rows that one engine returns and cmq-graph does not (and the reverse), a few of each."""
    rows = {}
    for e in engines:
        path = _answer_file(work, e, name)
        if path.exists():
            rows[e] = Counter(
                " ".join(r) if isinstance(r, list) else str(r) for r in json.loads(path.read_text())
            )
    ref = rows.get("cmq")
    out: dict[str, list[str]] = {}
    if ref is None:
        return out
    for e, mine in rows.items():
        if e == "cmq" or mine == ref:
            continue
        out[f"{e} only"] = [r[:300] for r in (mine - ref)][:limit]
        out[f"cmq only (vs {e})"] = [r[:300] for r in (ref - mine)][:limit]
    return out


KNOWN = {
    "virtrdf#Geometry": "Virtuoso stores geo:wktLiteral as its own virtrdf:Geometry type, coordinates "
    "rounded to float: the WKT text read back is not the text loaded",
}


def explain(diffs: dict[str, list[str]]) -> str | None:
    """A known, understood cause of a difference (Virtuoso's), or None: then it is a bug to find."""
    engines = {k.split(" ")[0] for k in diffs if k.endswith(" only")}
    if engines != {"virtuoso"}:
        return None
    theirs = [r for k, rows in diffs.items() if k == "virtuoso only" for r in rows]
    for marker, why in KNOWN.items():
        if theirs and all(marker in r for r in theirs):
            return why
    return None


def compare(out: dict[str, Any], work: Path) -> dict[str, dict[str, Any]]:
    """Per query: do all engines that answered return the same rows (canonical, sorted)?"""
    answers = _answers(out)
    verdicts = {}
    for item in out["plan"]:
        name = item["name"]
        digests = {e: a[name]["digest"] for e, a in answers.items() if name in a and "digest" in a[name]}
        errors = {e: a[name]["error"] for e, a in answers.items() if name in a and "error" in a[name]}
        rows = {e: answers[e][name]["rows"] for e in digests}
        if len(set(digests.values())) > 1:
            status = "DIFFERENT"
        elif len(digests) >= 2:
            status = "same"
        else:
            status = "single engine"
        verdicts[name] = {"status": status, "rows": rows, "errors": errors, "digests": digests}
        texts = {e: answers[e][name].get("text") for e in digests}
        if status == "DIFFERENT":
            diffs = differences(work, list(digests), name)
            verdicts[name]["differences"] = diffs
            verdicts[name]["explained"] = explain(diffs)
            verdicts[name]["wrong"] = sorted({k.split(" ")[0] for k in diffs if k.endswith(" only")})
            edited = sorted(e for e, text in texts.items() if text != texts.get("cmq"))
            if edited:
                # The curated run of 15:08 met this: a query was fixed between the cmq and rdflib
                # workers, and rdflib's right answer to the new text looked like a wrong one.
                verdicts[name]["explained"] = "the query file was edited during the run (not one question)"
                verdicts[name]["wrong"] = edited
    return verdicts


def _median_latency(entries: dict[str, Any], names: list[str]) -> float | None:
    values = [entries[n]["median"] for n in names if n in entries and "median" in entries[n]]
    return statistics.median(values) if values else None


def ratios(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """engine / cmq-graph for build, per query and memory, from this run's own measurements."""
    answers = _answers(out)
    cmq = out["engines"].get("cmq", {})
    result = {}
    for engine, res in out["engines"].items():
        if engine == "cmq" or not res.get("ok") or not cmq.get("ok"):
            continue
        per_query = {}
        lower_bounds: list[str] = []
        upper_bounds: list[str] = []
        for name, entry in answers[engine].items():
            if engine in out["equality"].get(name, {}).get("wrong", []):
                continue  # a fast wrong answer is not a result
            mine = answers["cmq"].get(name, {})
            if "median" in entry and mine.get("median"):
                per_query[name] = entry["median"] / mine["median"]
            elif entry.get("timeout") and mine.get("median"):
                # A lower bound: the engine had not answered when it was stopped.
                per_query[name] = entry.get("timeout_s", out["plan_timeout"]) / mine["median"]
                lower_bounds.append(name)
            elif "median" in entry and mine.get("timeout"):
                # An upper bound: cmq-graph had not answered when it was stopped.
                per_query[name] = entry["median"] / out["plan_timeout"]
                upper_bounds.append(name)
        finite = sorted(per_query.values())
        both_validated = res.get("validated") == cmq.get("validated")
        result[engine] = {
            "build": res["build_total"] / cmq["build_total"]
            if res.get("build_total") and both_validated
            else None,
            "build_validated": bool(res.get("validated") and cmq.get("validated")),
            "query_median_ratio": statistics.median(finite) if finite else None,
            "query_min_ratio": finite[0] if finite else None,
            "per_query": per_query,
            "lower_bounds": lower_bounds,
            "upper_bounds": upper_bounds,
            "memory": (cmq.get("peak_rss_kib") or 0) / res["peak_rss_kib"]
            if res.get("peak_rss_kib")
            else None,
            # Building and holding the graph (build + export), before any query.
            "build_memory": cmq["build_peak_rss_kib"] / res["build_peak_rss_kib"]
            if res.get("build_peak_rss_kib") and cmq.get("build_peak_rss_kib")
            else None,
        }
    return result


def estimate_pyshacl(runs: dict[str, Any]) -> None:
    """Where the rdflib pipeline ran without pySHACL (above the cap), estimate its validation.

    Linear in triples from the largest synthetic size pySHACL validated. pySHACL's cost per
    triple grows with the graph (0.43 ms at 10k, 0.66 ms at 100k, 0.92 ms at 1M measured once on
    2026-11-29), so the estimate is a lower bound on that pipeline's build, and the build ratio
    it gives is a lower bound too.
    """
    measured = [
        (run["triples"], size, run["engines"]["rdflib"]["stages"]["validate"])
        for size, run in runs.items()
        if run["dataset"]["synthetic"]
        and run["engines"].get("rdflib", {}).get("ok")
        and run["engines"]["rdflib"].get("validated")
    ]
    if not measured:
        return
    triples, source, seconds = max(measured)
    for run in runs.values():
        rd, cmq = run["engines"].get("rdflib", {}), run["engines"].get("cmq", {})
        if not rd.get("ok") or rd.get("validated"):
            continue
        rd["validate_estimate"] = seconds / triples * rd["triples"]
        rd["validate_estimate_from"] = source
        rd["build_estimate"] = rd["build_total"] + rd["validate_estimate"]
        if cmq.get("ok") and "rdflib" in run.get("ratios", {}):
            run["ratios"]["rdflib"]["build"] = rd["build_estimate"] / cmq["build_total"]
            run["ratios"]["rdflib"]["build_estimated_from"] = source


def targets(runs: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, read from this run's figures (met, missed, or not measured)."""
    found: list[dict[str, Any]] = []

    def add(name: str, value: str, met: bool | None, note: str = "") -> None:
        found.append({"target": name, "value": value, "met": met, "note": note})

    at = next(
        (s for s in ("1m", "100k", "10k") if s in runs and runs[s]["engines"].get("cmq", {}).get("ok")), None
    )
    if at is None:
        return found
    r = runs[at]["ratios"]
    note = "" if at == "1m" else f"measured at {at}: 1M not in this run"
    rd = r.get("rdflib", {})
    if rd.get("query_median_ratio") is not None:
        v = rd["query_median_ratio"]
        add("catalogue median ≥ 20× faster than rdflib at 1M", f"{v:.1f}×", v >= 20, note)
    else:
        add("catalogue median ≥ 20× faster than rdflib at 1M", "not measured", None, note)
    vi = r.get("virtuoso", {})
    if vi.get("per_query"):
        worst_name, worst = min(vi["per_query"].items(), key=lambda kv: kv[1])
        add(
            "no query slower than 2× Virtuoso at 1M",
            f"worst: {worst_name} at {1 / worst:.2f}× Virtuoso's time" if worst else "n/a",
            (1 / worst) <= 2 if worst else None,
            note,
        )
    else:
        add("no query slower than 2× Virtuoso at 1M", "not measured (Virtuoso unavailable)", None, note)
    # Build with validation, at 1M (pySHACL estimated there) and where both really validated.
    build = runs.get(at, {}).get("ratios", {}).get("rdflib", {})
    if build.get("build") is not None:
        v = build["build"]
        measured = [
            f"{runs[s]['ratios']['rdflib']['build']:.1f}× measured at {s}"
            for s in ("100k", "20k", "10k")
            if s in runs and runs[s]["ratios"].get("rdflib", {}).get("build_validated")
        ]
        source = build.get("build_estimated_from")
        add(
            "build with validation ≥ 10× faster than rdflib + pySHACL",
            f"{'≥ ' if source else ''}{v:.0f}× at {at}",
            v >= 10,
            (
                f"pySHACL estimated linearly from its time at {source} (a lower bound: its cost per "
                "triple grows with size); "
                if source
                else ""
            )
            + "; ".join(measured[:1])
            + ("" if at == "1m" else f"; {note}"),
        )
    cost = {}
    for s in ("100k", "1m"):
        res = runs.get(s, {}).get("engines", {}).get("cmq", {})
        if res.get("ok"):
            cost[s] = res["build_total"] / res["triples"]
    if len(cost) == 2:
        v = cost["1m"] / cost["100k"]
        add(
            "near-linear build: per-triple cost at 1M within 1.3× of 100k",
            f"{v:.2f}× ({cost['100k'] * 1e6:.0f} → {cost['1m'] * 1e6:.0f} µs a triple, validation included)",
            v <= 1.3,
        )
    if rd.get("build_memory") is not None:
        v = rd["build_memory"]
        whole = rd.get("memory")
        whole_note = (
            f"peak of the whole process, queries included: {100 * whole:.0f} % (the answers "
            "converted to Python weigh on both, and rdflib's budget skips the largest)"
            if whole is not None
            else ""
        )
        add(
            "peak memory at 1M ≤ 40 % of rdflib's",
            f"{100 * v:.0f} % building and holding the graph",
            v <= 0.4,
            "; ".join(n for n in (note, whole_note) if n),
        )
    big = runs.get("10m", {}).get("engines", {}).get("cmq", {})
    if big:
        if big.get("ok"):
            queries = big["queries"]
            small = {n: e for n, e in queries.items() if e.get("rows", 10**9) < 1000}
            # The warm median; a query that failed its warm runs (a timeout) has its cold time.
            latency = {n: e.get("median", e.get("cold", float("inf"))) for n, e in small.items()}
            slow = {n: v for n, v in latency.items() if v >= 1}
            # A query stopped by its timeout or the budget has no row count. One that returned
            # 1,000 rows or more at a smaller size returns more at 10M (the synthetic graph grows
            # by campuses): not small. Any other is not under a second either, and the report says so.
            known: dict[str, int] = {}  # the largest row count each query returned at any size
            for run in runs.values():
                for n, e in run.get("engines", {}).get("cmq", {}).get("queries", {}).items():
                    known[n] = max(known.get(n, 0), e.get("rows", 0))
            unknown = {
                n: e.get("error", "?")
                for n, e in queries.items()
                if "rows" not in e and known.get(n, 0) < 1000
            }
            add(
                "10M builds; every query returning < 1,000 rows answers in < 1 s",
                f"built {big['triples']:,} triples in {big['build_total']:.0f} s "
                f"(peak {big.get('peak_rss_kib', 0) / 2**20:.1f} GiB); "
                f"{len(small) - len(slow)}/{len(small)} small queries under 1 s (warm median)",
                not slow and not unknown,
                "; ".join(
                    [f"{n}: {v:.2f} s" for n, v in sorted(slow.items())]
                    + [f"{n}: {why[:60]}" for n, why in sorted(unknown.items())]
                ),
            )
        else:
            add("10M builds", "failed", False, big.get("error", "")[:200])
    return found


# -- report ---------------------------------------------------------------------------------


def _s(v: float | None, digits: int = 2) -> str:
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def _ms(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v * 1000:,.0f}" if v >= 1 else f"{v * 1000:.2f}"


def _mib(kib: int | None) -> str:
    return "—" if not kib else f"{kib / 1024:,.0f}"


def _bytes(n: int | None) -> str:
    return "—" if not n else f"{n / 2**20:,.1f}"


def markdown(report: dict[str, Any]) -> str:
    s = report["settings"]
    lines = [
        f"# cmq-graph benchmark — {'smoke' if s['smoke'] else 'full'} run",
        "",
        f"{report['started']} · {report['machine']} · Python {report['python']} · "
        f"pyoxigraph {report['versions'].get('pyoxigraph')}, rdflib {report['versions'].get('rdflib')}, "
        f"pySHACL {report['versions'].get('pyshacl')}, Virtuoso {report['versions'].get('virtuoso', '—')} · "
        f"total {report['elapsed'] / 60:.1f} min ("
        + ", ".join(f"{size} {run.get('elapsed', 0) / 60:.1f}" for size, run in report["runs"].items())
        + ")",
        "",
        f"Sizes: {', '.join(s['sizes'])}. Synthetic data from `cmq-graph synth` (seed {s['seed']}). "
        "cmq-graph validates every build (the shapes compiled to SPARQL on the new store); pySHACL "
        f"(rdflib pipeline) runs up to {s['pyshacl_cap']:,} triples and is estimated above (marked ~); "
        "rdflib up to "
        f"{s['rdflib_cap']:,} triples; queries: 1 cold run + up to {s['repeats']} warm runs "
        f"(median), {s['timeout']:.0f} s timeout per run.",
        "",
        "## Targets",
        "",
        "| target | measured | met | note |",
        "|---|---|---|---|",
    ]
    for t in report["targets"]:
        met = {True: "yes", False: "**no**", None: "—"}[t["met"]]
        lines.append(f"| {t['target']} | {t['value']} | {met} | {t['note']} |")
    lines += [
        "",
        "## Build",
        "",
        "Seconds per stage: map (read ontology + map tables), validate (cmq-graph: the shapes "
        "compiled to SPARQL on the new store; rdflib: pySHACL, ontology merged, no inference; "
        "~ = estimated from a smaller size, a lower bound), "
        "load (into the store), other (what `build()` does outside its stages), export (N-Triples "
        "dump; rdflib: N-Quads). Load rate = quads / load s (rdflib: / map s, its graph is built "
        "while mapping; Virtuoso: publish upload). Peak RSS of the engine's process after build and "
        "export (the graph made and held; rdflib above the pySHACL cap: without pySHACL's own "
        "memory) / at the end, queries included (Virtuoso: the server's VmHWM).",
        "",
        "| size | triples | engine | map | validate | load | other | export | build total | load rate (q/s) "
        "| peak RSS MiB (build / all) | on disk MiB | × cmq build | cmq mem / engine (build / all) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, run in report["runs"].items():
        for engine, res in run["engines"].items():
            if not res.get("ok"):
                lines.append(
                    f"| {size} | {run.get('triples', 0):,} | {LABELS[engine]} | "
                    + " | ".join(["—"] * 10)
                    + f" | {(res.get('skipped') or res.get('error', ''))[:80]} |"
                )
                continue
            st = res["stages"]
            rt = run["ratios"].get(engine, {})
            if st.get("validate") is not None:
                val = _s(st.get("validate"))
            elif res.get("validate_estimate") is not None:
                val = f"~{_s(res['validate_estimate'])}"
            else:
                val = "off" if engine != "virtuoso" else "—"
            total = res.get("build_total")
            total_cell = f"~{_s(res['build_estimate'])}" if res.get("build_estimate") else _s(total)
            lines.append(
                f"| {size} | {res.get('triples') or run.get('triples', 0):,} | {LABELS[engine]} "
                f"| {_s(st.get('map'))} | {val} | {_s(st.get('load'))} | {_s(st.get('other'))} "
                f"| {_s(st.get('export'))} | {total_cell} | {_s(res.get('load_rate'), 0)} "
                f"| {_mib(res.get('build_peak_rss_kib'))} / {_mib(res.get('peak_rss_kib'))} "
                f"| {_bytes(res.get('store_bytes'))} | {_s(rt.get('build'))} "
                f"| {_s(rt.get('build_memory'))} / {_s(rt.get('memory'))} |"
            )
    lines += ["", "## Catalogue queries", ""]
    lines.append(
        "Milliseconds: cold (first run after opening) / warm median; rows; the answers of all "
        "engines compared (canonical rows, sorted)."
    )
    for size, run in report["runs"].items():
        answers = _answers(run)
        engines = list(answers)
        if not engines:
            continue
        lines += ["", f"### {size} ({run.get('triples', 0):,} triples)", ""]
        head = "| query | rows | " + " | ".join(LABELS[e] for e in engines) + " | same answers |"
        lines += [head, "|---|---:|" + "---:|" * len(engines) + "---|"]
        for item in run["plan"]:
            name = item["name"]
            eq = run["equality"][name]
            cells = []
            for e in engines:
                entry = answers[e].get(name, {})
                if "median" in entry:
                    cells.append(f"{_ms(entry['cold'])} / {_ms(entry['median'])}")
                else:
                    cells.append(entry.get("error", "—")[:40])
            rows = next(iter(eq["rows"].values()), "—")
            status = eq["status"]
            if status == "DIFFERENT":
                status = ("differs (known, see below)" if eq.get("explained") else "**DIFFERENT**") + (
                    f": {', '.join(eq.get('wrong', []))} excluded from ratios"
                )
            lines.append(f"| {name} | {rows} | " + " | ".join(cells) + f" | {status} |")
        meds = [_median_latency(answers[e], [i["name"] for i in run["plan"]]) for e in engines]
        lines.append("| **median over the catalogue** | | " + " | ".join(f"{_ms(m)}" for m in meds) + " | |")
        rt = run["ratios"]
        parts = [
            f"{LABELS[e]}: median ratio {_s(v.get('query_median_ratio'))}×, "
            f"lowest {_s(v.get('query_min_ratio'))}×"
            + (
                f" (its timeouts counted as lower bounds: {', '.join(v['lower_bounds'])})"
                if v.get("lower_bounds")
                else ""
            )
            + (
                f" (cmq-graph's timeouts counted as upper bounds: {', '.join(v['upper_bounds'])})"
                if v.get("upper_bounds")
                else ""
            )
            for e, v in rt.items()
        ]
        if parts:
            lines += ["", "Per-query time ratio engine / cmq-graph (on disk): " + "; ".join(parts) + "."]
        cmq = run["engines"].get("cmq", {})
        if cmq.get("in_memory_open") is not None:
            lines += [
                "",
                f"In memory: the store copied into RAM in {cmq['in_memory_open']:.1f} s, in a process "
                f"of its own (peak {_mib(cmq.get('in_memory_peak_rss_kib'))} MiB, not counted in the "
                "build's peak).",
            ]
        if run["skipped_queries"]:
            lines += ["", "Not run: " + "; ".join(run["skipped_queries"])]
    bad = [
        (size, name, eq)
        for size, run in report["runs"].items()
        for name, eq in run["equality"].items()
        if eq["status"] == "DIFFERENT"
    ]
    lines += ["", "## Same answers?", ""]
    if bad:
        for size, name, eq in bad:
            why = f" — {eq['explained']}" if eq.get("explained") else " — **unexplained**"
            lines.append(f"- **{size} {name}**: rows {eq['rows']}{why}")
            for what, examples in eq.get("differences", {}).items():
                for ex in examples:
                    lines.append(f"  - {what}: `{ex}`")
    else:
        checked = sum(
            1 for run in report["runs"].values() for eq in run["equality"].values() if eq["status"] == "same"
        )
        lines.append(f"All engines returned the same rows for every query at every size ({checked} checks).")
    if report.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in report["notes"]]]
    lines += ["", f"![time against size]({report['plot']})", ""]
    return "\n".join(lines)


def plot(report: dict[str, Any], path: Path) -> None:
    """Log–log: build time and catalogue median latency against triples, one line per engine."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    series: dict[str, list[tuple[int, float, float | None, bool]]] = {}
    for run in report["runs"].values():
        answers = _answers(run)
        # The queries every engine answered at this size: a median over different sets of
        # queries (an engine whose budget skipped the costly ones) would compare nothing.
        names = [
            i["name"] for i in run["plan"] if all("median" in a.get(i["name"], {}) for a in answers.values())
        ]
        for engine, res in run["engines"].items():
            if not res.get("ok"):
                continue
            triples = res.get("triples") or run["triples"]
            series.setdefault(engine, []).append(
                (
                    triples,
                    res.get("build_estimate") or res["build_total"],
                    _median_latency(answers[engine], names),
                    not res.get("build_estimate"),
                )
            )
        if "cmq-mem" in answers:
            triples = run["triples"]
            series.setdefault("cmq-mem", []).append(
                (triples, float("nan"), _median_latency(answers["cmq-mem"], names), False)
            )
    for engine, points in series.items():
        points.sort()
        xs = [p[0] for p in points]
        if engine != "cmq-mem":
            ax1.plot(xs, [p[1] for p in points], marker="o", label=LABELS[engine])
            for x, y, _q, measured in points:
                if not measured:
                    ax1.plot([x], [y], marker="o", mfc="white", color=ax1.lines[-1].get_color())
        q = [(x, p[2]) for x, p in zip(xs, points, strict=True) if p[2]]
        if q:
            ax2.plot([a for a, _ in q], [b * 1000 for _, b in q], marker="o", label=LABELS[engine])
    ax1.set(
        xscale="log",
        yscale="log",
        xlabel="triples",
        ylabel="build time (s)",
        title="Build, SHACL validation included\n(Virtuoso: load only; open marker: pySHACL estimated)",
    )
    ax2.set(
        xscale="log",
        yscale="log",
        xlabel="triples",
        ylabel="median query latency (ms)",
        title="Catalogue: median latency over the queries\nevery engine answered at that size",
    )
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in ("pyoxigraph", "rdflib", "pyshacl"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    if shutil.which("virtuoso-t"):
        with contextlib.suppress(Exception):
            text = subprocess.run(["virtuoso-t", "-?"], capture_output=True, text=True, timeout=10)
            for line in (text.stdout + text.stderr).splitlines():
                if "Version" in line:
                    out["virtuoso"] = line.split("Version", 1)[1].strip().split()[0]
                    break
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="small sizes, few repeats (CI, < 2 min)")
    ap.add_argument("--sizes", nargs="+", choices=list(SIZES), help="sizes to run (default: all but 10m)")
    ap.add_argument("--with-10m", action="store_true", help="add 10M triples, cmq-graph alone")
    ap.add_argument("--engines", nargs="+", choices=ENGINES, help="engines to run (default: all)")
    ap.add_argument("--repeats", type=int, help="warm runs per query")
    ap.add_argument(
        "--pyshacl-cap", type=int, help="largest size (triples) pySHACL validates; estimated above it"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ontology", type=Path, default=paths.ONTOLOGY_DIR, help="ontology folder")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    ap.add_argument("--work", type=Path, default=WORK, help="scratch folder (data, stores)")
    args = ap.parse_args(argv)

    settings = Settings(seed=args.seed)
    if args.smoke:
        settings = Settings(
            sizes=["curated", "10k", "20k"],
            repeats=2,
            # rdflib's two quadratic queries time out whatever the size: 10 s each, once.
            timeout=10,
            query_budget=2,
            total_query_budget=60,
            # pySHACL costs ~5 ms a triple with the project's shapes: validate only the 10k graph.
            pyshacl_cap=10_000,
            worker_timeout=300,
            seed=args.seed,
            prefix="smoke-",
            smoke=True,
        )
    if args.sizes:
        settings.sizes = args.sizes
    if args.with_10m and "10m" not in settings.sizes:
        settings.sizes.append("10m")
    if args.engines:
        settings.engines = args.engines
    if args.repeats:
        settings.repeats = args.repeats
    settings.ontology = str(args.ontology)
    settings.work = str(args.work)
    if args.pyshacl_cap is not None:
        settings.pyshacl_cap = args.pyshacl_cap

    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {_mem_gib()} GiB RAM",
        "python": platform.python_version(),
        "versions": versions(),
        "settings": asdict(settings),
        "runs": {},
        "notes": [],
    }
    for size in settings.sizes:
        dataset = prepare_data(size, settings)
        if dataset is None:
            report["notes"].append(f"{size}: skipped (data/ has no curated tables yet)")
            log(f"{size}: skipped, no curated data")
            continue
        began = time.time()
        previous = next(reversed(report["runs"].values()), None)
        run = measure_size(dataset, settings, previous)
        run["elapsed"] = time.time() - began
        run["ratios"] = ratios(run)
        report["runs"][size] = run
    estimate_pyshacl(report["runs"])
    report["elapsed"] = time.time() - started
    report["targets"] = targets(report["runs"])
    if "virtuoso" in settings.engines and not any(
        r["engines"].get("virtuoso", {}).get("ok") for r in report["runs"].values()
    ):
        report["notes"].append("Virtuoso was not measured (see the build table for why).")
    plot_path = args.out / f"{settings.prefix}scaling.png"
    report["plot"] = plot_path.name
    plot(report, plot_path)
    (args.out / f"{settings.prefix}report.json").write_text(json.dumps(report, indent=1, default=str))
    (args.out / f"{settings.prefix}report.md").write_text(markdown(report))
    same = all(
        eq["status"] != "DIFFERENT" or eq.get("explained")
        for r in report["runs"].values()
        for eq in r["equality"].values()
    )
    # Differences between engines are findings (listed in the report); the run fails only if
    # cmq-graph disagrees with itself (disk against memory) or did not run.
    consistent = all(
        r["engines"].get("cmq", {}).get("ok")
        and all(eq["digests"].get("cmq") == eq["digests"].get("cmq-mem") for eq in r["equality"].values())
        for r in report["runs"].values()
    )
    log(
        f"done in {report['elapsed'] / 60:.1f} min; "
        f"answers {'the same (or known differences)' if same else 'DIFFER'}; "
        f"report: {args.out / (settings.prefix + 'report.md')}"
    )
    return 0 if consistent else 1


def _mem_gib() -> int:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError):
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""The SPARQL endpoint under bounded concurrent load on 127.0.0.1, beside other servers of the same data.

Servers (each on the same store, started and stopped here):
  cmq       ``cmq-graph serve`` (Granian + Starlette, queries in killable worker processes)
  oxigraph  ``oxigraph serve-read-only --union-default-graph`` (the ``oxigraph`` PyPI package)
  virtuoso  Virtuoso's ``/sparql``, loaded with ``cmq-graph publish`` (``benchmarks/virtuoso_engine.py``)

Load: ``--clients`` processes, each sending one query after another for ``--duration`` seconds,
opening a connection per request (the hard case for a server) or keeping one (``--keep-alive``).
Two mixes: ``lookups`` (one campus's statements, a few dozen rows, a random campus each time) and
``catalogue`` (the catalogue's queries with their defaults, those answering under ``--mix-cap``
seconds on the embedded store). Each run reports throughput, p50 and p99 latency and errors.

``--sustained S`` then runs S seconds at full speed from 16 clients opening a connection per
request and samples the server's threads and resident memory every second.

    python -m benchmarks.serve_load --store STORE --clients 1 4 16 --duration 10
    python -m benchmarks.serve_load --store STORE --servers cmq --clients 16 --sustained 60

The machine must be otherwise idle; the load generator shares its cores with the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmq_graph import catalog
from cmq_graph.namespaces import PREFIXES
from cmq_graph.remote import bind_values
from cmq_graph.store import EmbeddedStore, current_generation

RESULTS = Path(__file__).parent / "results"
PROLOGUE = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"  # catalogue has CONSTRUCTs


@dataclass
class Server:
    name: str
    host: str
    port: int
    path: str
    pid: int  # the process whose tree is the server (threads, memory)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(server: Server, timeout: float = 120, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with status {proc.returncode}")
        try:
            status, _ = request(server, "ASK { ?s ?p ?o }", keep=None)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer within {timeout} s")


@contextmanager
def start_cmq(store: Path, workers: int, http_processes: int = 1):
    env = dict(os.environ, CMQ_GRAPH_STORE=str(store))
    proc = subprocess.Popen([sys.executable, "-m", "cmq_graph.cli", "serve", "--port", "0",
                             "--store", str(store), "--workers", str(workers),
                             "--http-processes", str(http_processes)],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        found = re.search(r"http://([\d.]+):(\d+)/sparql", line)
        if not found:
            raise RuntimeError(f"cmq-graph serve did not start: {line!r}")
        server = Server("cmq", found.group(1), int(found.group(2)), "/sparql", proc.pid)
        wait_ready(server, proc=proc)
        yield server
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def start_oxigraph(store: Path):
    gen = current_generation(store)
    port = free_port()
    exe = Path(sys.executable).parent / "oxigraph"
    proc = subprocess.Popen([str(exe), "serve-read-only", "--location", str(gen), "--bind",
                             f"127.0.0.1:{port}", "--union-default-graph", "--timeout-s", "30"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server = Server("oxigraph", "127.0.0.1", port, "/query", proc.pid)
        wait_ready(server, proc=proc)
        yield server
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def start_virtuoso(store: Path):
    from benchmarks import virtuoso_engine

    with tempfile.TemporaryDirectory(prefix="serve-load-virtuoso-") as tmp:
        v = virtuoso_engine.start_server(Path(tmp))
        try:
            virtuoso_engine.load_and_open({"virtuoso": {"sparql": v.sparql}, "store_root": str(store)})
            url = urllib.parse.urlsplit(v.sparql)
            server = Server("virtuoso", url.hostname or "127.0.0.1", url.port or 80, url.path,
                            v.process.pid)
            wait_ready(server)
            yield server
        finally:
            v.stop()


def request(server: Server, query: str, keep: http.client.HTTPConnection | None) -> tuple[int, int]:
    """POST one query (form-encoded); (status, bytes of the answer)."""
    conn = keep or http.client.HTTPConnection(server.host, server.port, timeout=60)
    body = urllib.parse.urlencode({"query": query})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": ACCEPT}
    if keep is None:
        headers["Connection"] = "close"
    try:
        conn.request("POST", server.path, body, headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, len(data)
    finally:
        if keep is None:
            conn.close()


def client(server: Server, queries: list[str], duration: float, keep_alive: bool, seed: int,
           out: Any) -> None:
    rng = random.Random(seed)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    conn = http.client.HTTPConnection(server.host, server.port, timeout=60) if keep_alive else None
    end = time.monotonic() + duration
    while time.monotonic() < end:
        query = rng.choice(queries)
        t0 = time.perf_counter()
        try:
            status, _size = request(server, query, conn)
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
                continue
        except (OSError, http.client.HTTPException) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            if conn is not None:
                conn.close()
                conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
            continue
        latencies.append(time.perf_counter() - t0)
    out.send((latencies, errors))


def tree(pid: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            kids.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    out, todo = [pid], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def threads_and_rss(pid: int) -> tuple[int, int]:
    """Threads and resident memory (KiB) of the process tree under ``pid``."""
    threads = rss = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("Threads:"):
                    threads += int(line.split()[1])
                elif line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
        except OSError:
            continue
    return threads, rss


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) spent so far by the living processes under ``pid``."""
    total = 0.0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def load(server: Server, queries: list[str], clients: int, duration: float, keep_alive: bool,
         sample: bool = False) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    cpu_before = tree_cpu(server.pid)
    pipes, procs = [], []
    for i in range(clients):
        parent, child = ctx.Pipe(duplex=False)
        p = ctx.Process(target=client, args=(server, queries, duration, keep_alive, i, child))
        p.start()
        pipes.append(parent)
        procs.append(p)
    samples = []
    start = time.monotonic()
    while any(p.is_alive() for p in procs) and time.monotonic() - start < duration + 120:
        if sample:
            alive = Path(f"/proc/{server.pid}").exists()
            samples.append((round(time.monotonic() - start, 1), *threads_and_rss(server.pid), alive))
        if all(pipe.poll() for pipe in pipes):
            break
        time.sleep(1.0 if sample else 0.2)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    for pipe in pipes:
        lat, err = pipe.recv()
        latencies.extend(lat)
        for k, v in err.items():
            errors[k] = errors.get(k, 0) + v
    for p in procs:
        p.join()
    cpu = tree_cpu(server.pid) - cpu_before
    latencies.sort()

    def pct(q: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)

    result = {"server": server.name, "clients": clients, "seconds": duration, "keep_alive": keep_alive,
              "answers": len(latencies), "qps": round(len(latencies) / duration, 1),
              "p50_ms": pct(0.50), "p99_ms": pct(0.99), "errors": errors,
              "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
              # The server's own CPU per answer: what load on a shared machine does not blur.
              "server_cpu_ms_per_answer": round(cpu * 1000 / len(latencies), 3) if latencies else None}
    if sample:
        result["samples"] = samples
    return result


def lookups(store: Path, n: int = 300) -> list[str]:
    with EmbeddedStore.open(store) as s:
        campuses = [r[0] for r in s.query(
            f"SELECT DISTINCT ?c WHERE {{ ?c a cmq:Campus }} LIMIT {n}").rows]
    return [f"SELECT ?p ?o WHERE {{ <{c}> ?p ?o }}" for c in campuses]


def catalogue_mix(store: Path, cap: float) -> tuple[list[str], list[dict[str, Any]]]:
    """The catalogue's queries, defaults bound, that answer under ``cap`` s on the embedded store."""
    chosen, notes = [], []
    with EmbeddedStore.open(store) as s:
        for name, q in sorted(catalog.catalogue().items()):
            defaults = {p.name: catalog.to_term(p, p.default, q.where) for p in q.params if p.default}
            if any(p.default is None for p in q.params):
                notes.append({"query": name, "left out": "a parameter without default"})
                continue
            try:
                text = bind_values(q.text, defaults) if defaults else q.text
            except Exception as exc:
                notes.append({"query": name, "left out": str(exc)})
                continue
            t0 = time.perf_counter()
            try:
                rows = len(s.query(text, timeout=cap * 3).rows)
            except Exception as exc:
                notes.append({"query": name, "left out": f"embedded: {exc}"})
                continue
            took = time.perf_counter() - t0
            if took > cap:
                notes.append({"query": name, "left out": f"{took:.2f} s on the embedded store"})
                continue
            notes.append({"query": name, "rows": rows, "embedded_ms": round(took * 1000, 1)})
            chosen.append(PROLOGUE + text)
    return chosen, notes


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| mix | server | clients | conn | q/s | p50 ms | p99 ms | server CPU ms/answer | errors |",
             "|---|---|---:|---|---:|---:|---:|---:|---|"]
    for r in results:
        errs = ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "0"
        lines.append(f"| {r['mix']} | {r['server']} | {r['clients']} | "
                     f"{'keep-alive' if r['keep_alive'] else 'per request'} | {r['qps']} | {r['p50_ms']} | "
                     f"{r['p99_ms']} | {r['server_cpu_ms_per_answer']} | {errs} |")
    return "\n".join(lines)


def save(out: Path, report: dict[str, Any], results: list[dict[str, Any]]) -> None:
    """Write what is measured so far (a long run that fails later keeps its numbers)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**report, "results": results}, indent=1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, required=True, help="a built store (e.g. the 1M synthetic one)")
    ap.add_argument("--servers", nargs="+", default=["cmq", "oxigraph"],
                    choices=["cmq", "oxigraph", "virtuoso"])
    ap.add_argument("--clients", nargs="+", type=int, default=[1, 4, 16])
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    ap.add_argument("--mixes", nargs="+", default=["lookups", "catalogue"], choices=["lookups", "catalogue"])
    ap.add_argument("--mix-cap", type=float, default=0.1, help="catalogue queries under this many s")
    ap.add_argument("--keep-alive", action="store_true", help="one connection per client")
    ap.add_argument("--workers", type=int, default=2, help="cmq-graph serve's query workers")
    ap.add_argument("--http-processes", type=int, default=1, help="cmq-graph serve's HTTP processes")
    ap.add_argument("--sustained", type=float, default=0, help="then S s from 16 clients, per request")
    ap.add_argument("--sustained-servers", nargs="+", default=["cmq"])
    ap.add_argument("--out", type=Path, default=RESULTS / "serve_load.json")
    args = ap.parse_args(argv)

    mixes: dict[str, list[str]] = {}
    report: dict[str, Any] = {"store": str(args.store), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                              "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    with EmbeddedStore.open(args.store) as s:
        report["quads"] = len(s)
    if "lookups" in args.mixes:
        mixes["lookups"] = [PROLOGUE + q for q in lookups(args.store)]
    if "catalogue" in args.mixes:
        mixes["catalogue"], report["catalogue"] = catalogue_mix(args.store, args.mix_cap)
    starters = {"cmq": lambda: start_cmq(args.store, args.workers, args.http_processes),
                "oxigraph": lambda: start_oxigraph(args.store),
                "virtuoso": lambda: start_virtuoso(args.store)}
    results: list[dict[str, Any]] = []
    for name in args.servers:
        with ExitStack() as stack:
            server = stack.enter_context(starters[name]())
            for mix, queries in mixes.items():
                load(server, queries, 1, 2.0, args.keep_alive)  # warm-up
                for n in args.clients:
                    r = load(server, queries, n, args.duration, args.keep_alive)
                    r["mix"] = mix
                    results.append(r)
                    print(table([r]).splitlines()[-1], flush=True)
                    save(args.out, report, results)
    report["results"] = results
    for name in args.sustained_servers if args.sustained else []:
        with starters[name]() as server:
            r = load(server, mixes.get("lookups") or next(iter(mixes.values())), 16, args.sustained,
                     keep_alive=False, sample=True)
            r["mix"] = "lookups, sustained"
            threads = [t for _, t, _, _ in r["samples"]]
            rss = [m for _, _, m, _ in r["samples"]]
            r["threads_min_max"] = [min(threads), max(threads)]
            r["rss_mib_first_last_max"] = [round(m / 1024) for m in (rss[0], rss[-1], max(rss))]
            r["alive_at_end"] = r["samples"][-1][3]
            results.append(r)
            print(table([r]).splitlines()[-1], "threads", r["threads_min_max"], "RSS MiB",
                  r["rss_mib_first_last_max"], "alive", r["alive_at_end"], flush=True)
    report["load_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

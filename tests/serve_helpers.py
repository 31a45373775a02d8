"""Starting ``cmq-graph serve`` as a real process for the tests, and reading its processes' CPU."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
_ADDRESS = re.compile(r"SPARQL endpoint (http://\S+)/sparql")


class Served:
    """A running ``serve`` process: its base URL and pid."""

    def __init__(self, proc: subprocess.Popen, base: str):
        self.proc, self.base = proc, base
        self.endpoint = base + "/sparql"

    def workers(self) -> list[int]:
        """Pids of the query workers: the children of the server's forkserver process."""
        procs = descendants(self.proc.pid)
        servers = {p for p in procs if "forkserver" in cmdline(p) and "forkserver" not in cmdline(_ppid(p))}
        return [p for p in procs if _ppid(p) in servers]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _ppid(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(pid: int) -> list[int]:
    """All living descendants of ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            children.setdefault(_ppid(int(entry)), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    return sum(cpu_seconds(p) for p in [pid, *descendants(pid)])


@contextmanager
def serve(store: Path, *args: str, wait: float = 60.0) -> Iterator[Served]:
    """``cmq-graph serve --port 0`` on ``store``, ready (it answered a query) until the block ends."""
    env = dict(os.environ, PYTHONPATH=str(PROJECT), CMQ_GRAPH_STORE=str(store))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmq_graph.cli", "serve", "--port", "0", "--store", str(store), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        found = _ADDRESS.search(line)
        if not found:
            raise RuntimeError(f"serve did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
        served = Served(proc, found.group(1))
        deadline = time.monotonic() + wait
        while True:
            try:
                with urllib.request.urlopen(served.endpoint + "?query=ASK%7B%7D", timeout=5) as r:
                    r.read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

"""A throwaway Oxigraph server (the ``oxigraph`` PyPI package's ``serve``, read-write) for tests.

A second SPARQL engine for the generic protocol path of ``publish`` and ``RemoteStore``: SPARQL
1.1 Query (``/query``), Update (``/update``) and the Graph Store Protocol (``/store?graph=``),
no authentication. Its data persists in the given folder; it listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from virtuoso import _die_with_parent, free_port


def program() -> str | None:
    """The ``oxigraph`` command installed with the package (beside this interpreter, or on PATH)."""
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.exists() else shutil.which("oxigraph")


@dataclass
class OxigraphServer:
    directory: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def query(self) -> str:
        return f"{self.base}/query"

    @property
    def update(self) -> str:
        return f"{self.base}/update"

    @property
    def store(self) -> str:
        return f"{self.base}/store"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _ready(url: str) -> bool:
    query = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
    try:
        with urllib.request.urlopen(f"{url}?{query}", timeout=5) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def start(directory: Path, *, command: str, ready_timeout: float = 60, attempts: int = 3) -> OxigraphServer:
    last = ""
    for attempt in range(attempts):
        port = free_port()
        log = open(directory / f"oxigraph-{attempt}.log", "wb")  # noqa: SIM115 - lives with the server
        process = subprocess.Popen(
            [command, "serve", "--location", str(directory / "db"), "--bind", f"127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        server = OxigraphServer(directory, port, process)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline and process.poll() is None:
            if _ready(server.query):
                return server
            time.sleep(0.2)
        server.stop()
        last = (directory / f"oxigraph-{attempt}.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"oxigraph serve did not start after {attempts} attempts: {last}")


@contextlib.contextmanager
def running(directory: Path, *, command: str) -> Iterator[OxigraphServer]:
    server = start(directory, command=command)
    try:
        yield server
    finally:
        server.stop()

"""Virtuoso as a benchmarked engine: a throwaway server on loopback, loaded from cmq-graph's store.

The server comes from ``tests/virtuoso.py`` (own ini, own database, free loopback ports,
``ResultSetMaxRows`` raised so results are never silently cut), with more buffers than the test
default so that a million triples fit in RAM: Virtuoso is compared at its best, not swapping
pages. Loading is ``cmq-graph publish`` (:func:`cmq_graph.publish.publish`: Graph Store Protocol
POSTs into staging graphs, counts checked, then moved into place), as a user would load it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from cmq_graph import paths

# Graphs a fresh Virtuoso 7.2 holds and answers from (its own schema graph virtrdf# stays).
SAMPLE_GRAPHS = (
    "http://www.w3.org/2002/07/owl#",
    "http://www.w3.org/ns/ldp#",
    "http://localuriqaserver/sparql",
)
BUFFERS = 170_000  # 8 KiB pages: ~1.4 GB, what Virtuoso's ini advises for 2 GB of RAM


def helper_module() -> Any | None:
    """``tests/virtuoso.py`` (the project's server helper), or None where it is not there."""
    path = paths.PROJECT_ROOT / "tests" / "virtuoso.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("cmq_tests_virtuoso", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def start_server(directory: Path, buffers: int = BUFFERS) -> Any:
    """Start a server with ``buffers`` pages of cache; the helper's ini with two numbers changed."""
    module = helper_module()
    if module is None:
        raise RuntimeError("tests/virtuoso.py is missing")
    module._INI = module._INI.replace(
        "NumberOfBuffers          = 10000", f"NumberOfBuffers          = {buffers}"
    )
    module._INI = module._INI.replace(
        "MaxDirtyBuffers          = 6000", f"MaxDirtyBuffers          = {buffers * 3 // 4}"
    )
    module._INI = module._INI.replace("MaxQueryMem              = 256M", "MaxQueryMem              = 2G")
    return module.start(directory, max_rows=10_000_000, max_seconds=600)


def peak_rss_kib(pid: int) -> int | None:
    """The server process's high-water mark of resident memory (``VmHWM``), in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def load_and_open(spec: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Load the cmq-graph store of this size into the running server; return a RemoteStore on it."""
    from cmq_graph import publish
    from cmq_graph.remote import Credentials, RemoteStore
    from cmq_graph.store import EmbeddedStore

    v = spec["virtuoso"]
    info: dict[str, Any] = {}
    with EmbeddedStore.open(Path(spec["store_root"])) as local:
        info["quads"] = len(local)
        target = publish.connect(v["sparql"], credentials=Credentials("dba", "dba"), timeout=600, retries=1)
        report = publish.publish(local, target, publish.DEFAULT_GRAPH, say=lambda _m: None)
        info["method"] = f"cmq-graph publish ({report.method})"
        info["triples"] = report.triples
    # As `cmq-graph query --endpoint` reads it: the published graphs only (from publish's manifest).
    reader = RemoteStore(v["sparql"], timeout=600, retries=1)
    return reader, info

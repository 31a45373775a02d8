"""Helpers for the tests that run ``cmq-graph`` on broken inputs and stores, as a user would.

A project copy lives in a folder every user can traverse (the permission tests run the CLI as
``nobody``); the store's live graph is compared by a digest of its quads and its generation.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cmq_graph.store import EmbeddedStore, current_generation

ROOT = Path(__file__).resolve().parent.parent
MINI = Path(__file__).parent / "fixtures" / "mini"
NOBODY = 65534
# Blank nodes are renamed at each parse of the ontology: the digest compares them as one.
_BLANK = re.compile(r"_:[A-Za-z0-9]+")
# Every exit code the README documents (cmq_graph/cli.py's EXIT_* constants).
DOCUMENTED_EXITS = {0, 1, 2, 3, 4, 5, 130, 141}


@dataclass
class Run:
    code: int
    out: str
    err: str


def live_digest(store_root: Path) -> tuple[str | None, str]:
    """(live generation, SHA-256 of its sorted quads): what a refused build must not change."""
    gen = current_generation(store_root)
    with EmbeddedStore.open(store_root) as store:
        lines = sorted(_BLANK.sub("_:b", str(q)) for q in store.quads())
    return (gen.name if gen else None), hashlib.sha256("\n".join(lines).encode()).hexdigest()


def open_project(dest: Path, data: Path = MINI / "data", ontology: Path = MINI / "ontology") -> Path:
    """A copy of ``data`` and ``ontology`` under ``dest`` (readable by every user)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(data, dest / "data")
    shutil.copytree(ontology, dest / "ontology")
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def cli(args: list[str], *, user: int | None = None, timeout: float = 120, stdin=None) -> Run:
    """``cmq-graph ARGS`` in a real process (as the uid ``user``, through setpriv, when given)."""
    command = [sys.executable, "-m", "cmq_graph.cli", *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CMQ_GRAPH_DEBUG": ""}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=env, stdin=stdin, check=False
    )
    return Run(done.returncode, done.stdout, done.stderr)


def build_args(project: Path, store: Path | None = None) -> list[str]:
    return [
        "build",
        "--data",
        str(project / "data"),
        "--ontology",
        str(project / "ontology"),
        "--store",
        str(store or project / "store"),
    ]

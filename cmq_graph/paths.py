"""Where the project's inputs are and where the store lives by default."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"
QUERIES_DIR = PROJECT_ROOT / "queries"


def default_store_path() -> Path:
    """``$CMQ_GRAPH_STORE``, else ``$XDG_DATA_HOME/cmq-graph/store`` (``~/.local/share/...``)."""
    if env := os.environ.get("CMQ_GRAPH_STORE"):
        return Path(env)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "cmq-graph" / "store"

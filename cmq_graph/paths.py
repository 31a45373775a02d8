"""Where the project's inputs are and where the store lives by default.

The curated tables, the ontology (with its shapes and vocabularies) and the query catalogue ship
inside the package, under ``cmq_graph/share/``, so that an installed ``cmq-graph`` works from any
folder. In a source checkout ``share/data``, ``share/ontology`` and ``share/queries`` are symbolic
links to the top-level ``data/``, ``ontology/`` and ``queries/`` folders, which stay the source of
truth; building the wheel copies what they point to (see ``package-data`` in ``pyproject.toml``).

A user's own inputs come from the ``--data``/``--ontology``/``--queries`` options or from the
``CMQ_GRAPH_DATA``/``CMQ_GRAPH_ONTOLOGY``/``CMQ_GRAPH_QUERIES`` environment variables, read at each
call (the option wins over the variable, the variable over the shipped folder).
"""

from __future__ import annotations

import os
from pathlib import Path

SHARE = Path(__file__).resolve().parent / "share"
# Resolved so that messages name the file a user edits (data/x.csv in a checkout).
DATA_DIR = (SHARE / "data").resolve()
ONTOLOGY_DIR = (SHARE / "ontology").resolve()
QUERIES_DIR = (SHARE / "queries").resolve()
# The source checkout's root (tests, benchmarks, notebooks); meaningless once installed.
PROJECT_ROOT = DATA_DIR.parent

ENV_DATA = "CMQ_GRAPH_DATA"
ENV_ONTOLOGY = "CMQ_GRAPH_ONTOLOGY"
ENV_QUERIES = "CMQ_GRAPH_QUERIES"


def _chosen(option: Path | str | None, variable: str, shipped: Path) -> Path:
    if option is not None and str(option) != "":
        return Path(option)
    if env := os.environ.get(variable):
        return Path(env)
    return shipped


def data_dir(option: Path | str | None = None) -> Path:
    """The curated tables: ``option``, else ``$CMQ_GRAPH_DATA``, else the shipped ``data/``."""
    return _chosen(option, ENV_DATA, DATA_DIR)


def ontology_dir(option: Path | str | None = None) -> Path:
    """The ontology folder: ``option``, else ``$CMQ_GRAPH_ONTOLOGY``, else the shipped one."""
    return _chosen(option, ENV_ONTOLOGY, ONTOLOGY_DIR)


def queries_dir(option: Path | str | None = None) -> Path:
    """The query catalogue: ``option``, else ``$CMQ_GRAPH_QUERIES``, else the shipped ``queries/``."""
    return _chosen(option, ENV_QUERIES, QUERIES_DIR)


def default_store_path() -> Path:
    """``$CMQ_GRAPH_STORE``, else ``$XDG_DATA_HOME/cmq-graph/store`` (``~/.local/share/...``)."""
    if env := os.environ.get("CMQ_GRAPH_STORE"):
        return Path(env)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "cmq-graph" / "store"

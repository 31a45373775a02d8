"""The analysts' notebooks run top to bottom on a freshly built store, offline, and stay stripped."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cmq_graph import paths

NOTEBOOK_DIR = paths.PROJECT_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
DEAD_PROXY = "http://127.0.0.1:9"  # discard port: any HTTP(S) request from a notebook fails fast


def test_the_notebooks_exist() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"01-tour.ipynb", "02-analysis.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stripped(path: Path) -> None:
    """Outputs are not kept in git: they would go stale and bloat every diff."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs (clear them before committing)"
            assert cell.execution_count is None, f"{path.name}: a cell has an execution count"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CMQ_GRAPH_STORE", str(store_root))
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, DEAD_PROXY)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK_DIR)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    if path.stem == "02-analysis":
        pictures = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(pictures) >= 4, "the analysis should draw its plots"
        network = [c for c in nb.cells if c.cell_type == "code" and "network.analyse(" in c.source]
        assert network, "the analysis has a network section"
        printed = "".join(o.get("text", "") for c in network for o in c.outputs)
        assert " campuses" in printed and " links" in printed, "the network section reports its figures"

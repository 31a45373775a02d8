"""Bad input in the national data (issue 10): each a clear error naming file, line and field,
exit status 2 through the CLI, and the previous graph left live.

Runs on a copy of the project's own data/ and ontology/, so the ids are the real ones; the row
each case breaks is found by reading the copy, never by a hard-coded line number.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cmq_graph import paths
from cmq_graph.build import build
from cmq_graph.cli import main
from cmq_graph.errors import InputError
from cmq_graph.store import EmbeddedStore


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _append(path: Path, **values: str) -> int:
    """Add a row (and any column it needs); return its line number."""
    header, rows = _rows(path)
    header += [k for k in values if k not in header]
    rows.append(values)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows) + 1


def _set(path: Path, row_id: str, row_source: str, **values: str) -> int:
    """Change cells of the row (row_id, row_source); return its line number."""
    header, rows = _rows(path)
    line = next(i for i, r in enumerate(rows) if r["id"] == row_id and r["source"] == row_source) + 2
    rows[line - 2].update(values)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return line


def _a_campus(data: Path) -> dict[str, str]:
    return next(r for r in _rows(data / "campuses.csv")[1] if r["id"] == "propulsions")


# name -> (break the data, returning (file, line); field; words the message must contain)
Breaker = Callable[[Path], tuple[str, int]]
CASES: dict[str, tuple[Breaker, str, str]] = {
    "undeclared source": (
        lambda d: (
            "campuses.csv",
            _set(d / "campuses.csv", "propulsions", "ac-rouen-105908", source="no-such-source"),
        ),
        "source",
        "unknown source 'no-such-source'",
    ),
    "campus in an unknown territory": (
        lambda d: (
            "campuses.csv",
            _append(
                d / "campuses.csv",
                id="campus-nowhere",
                source="ac-caen",
                name_fr="Campus",
                territories="region-99",
            ),
        ),
        "territories",
        "'region-99' does not exist",
    ),
    "filière that does not exist": (
        lambda d: (
            "campuses.csv",
            _append(
                d / "campuses.csv",
                id="campus-x",
                source="ac-caen",
                name_fr="Campus X",
                filieres="aerospatiale",
            ),
        ),
        "filieres",
        "unknown code 'aerospatiale'",
    ),
    "wave that does not exist": (
        lambda d: (
            "labellings.csv",
            _append(
                d / "labellings.csv",
                id="propulsions-2016",
                source="ac-caen",
                campus="propulsions",
                label="cmq",
                call="appel-9",
            ),
        ),
        "call",
        "'appel-9' does not exist",
    ),
    "two rows, one source, two régions": (
        lambda d: (
            "campuses.csv",
            _append(
                d / "campuses.csv",
                **{**_a_campus(d), "territories": "region-11"},
            ),
        ),
        "id",
        "duplicate id 'propulsions' with source 'campus-propulsions-missions'",
    ),
    "one row, one source, two régions": (
        lambda d: (
            "campuses.csv",
            _set(
                d / "campuses.csv",
                "propulsions",
                "campus-propulsions-missions",
                territories="region-28|region-11",
            ),
        ),
        "territories",
        "placed in two régions by one source: region-11, region-28",
    ),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's data and ontology, copied, with a store built from them."""
    root = tmp_path_factory.mktemp("national")
    shutil.copytree(paths.DATA_DIR, root / "data")
    shutil.copytree(paths.ONTOLOGY_DIR, root / "ontology")
    build(root / "data", root / "ontology", root / "store", say=lambda _m: None)
    return root


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(built, root)
    return root


def _snapshot(store_root: Path) -> set[str]:
    with EmbeddedStore.open(store_root) as store:
        return {str(q) for q in store.quads()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_national_input(project: Path, case: str, capsys) -> None:
    breaker, field, words = CASES[case]
    before = _snapshot(project / "store")
    assert before
    file, line = breaker(project / "data")
    with pytest.raises(InputError) as err:
        build(project / "data", project / "ontology", project / "store", say=lambda _m: None)
    match = [p for p in err.value.problems if words in p.message]
    assert match, f"no problem says {words!r}: {err.value.report()}"
    assert (match[0].file, match[0].line, match[0].field) == (str(project / "data" / file), line, field)
    assert _snapshot(project / "store") == before

    code = main(
        [
            "build",
            "--data",
            str(project / "data"),
            "--ontology",
            str(project / "ontology"),
            "--store",
            str(project / "store"),
        ]
    )
    assert code == 2
    err_text = capsys.readouterr().err
    assert f"{project / 'data' / file}:{line}: [{field}]" in err_text and words in err_text
    assert _snapshot(project / "store") == before

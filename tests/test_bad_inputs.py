"""A corpus of bad inputs: each gets its clear error, a non-zero exit, and the store stays as it was."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cmq_graph.build import build
from cmq_graph.cli import main
from cmq_graph.errors import InputError, ValidationError
from cmq_graph.store import EmbeddedStore

MINI = Path(__file__).parent / "fixtures" / "mini"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


# name -> (how to break the inputs, file, line, field, words the message must contain)
CASES: dict[str, tuple[Callable[[Path], None], str, int | None, str | None, str]] = {
    "missing column": (
        lambda d: _edit(d / "data/memberships.csv", "id,source,member,", "id,source,"),
        "data/memberships.csv",
        1,
        "member",
        "missing column 'member'",
    ),
    "unknown column": (
        lambda d: _edit(d / "data/campuses.csv", "short_name", "shortname"),
        "data/campuses.csv",
        1,
        "shortname",
        "unknown column 'shortname'",
    ),
    "unknown source id": (
        lambda d: _edit(d / "data/campuses.csv", "c1,src-a,", "c1,src-zz,"),
        "data/campuses.csv",
        2,
        "source",
        "unknown source 'src-zz'",
    ),
    "malformed date": (
        lambda d: _edit(d / "data/memberships.csv", "2015-03", "2015-13"),
        "data/memberships.csv",
        2,
        "start",
        "invalid date '2015-13'",
    ),
    "impossible day": (
        lambda d: _edit(d / "data/memberships.csv", "2015-03", "2015-02-30"),
        "data/memberships.csv",
        2,
        "start",
        "invalid date '2015-02-30'",
    ),
    "bad UAI": (
        lambda d: _edit(d / "data/organisations.csv", "0761234A", "076123A"),
        "data/organisations.csv",
        2,
        "uai",
        "invalid uai '076123A'",
    ),
    "bad SIREN": (
        lambda d: _edit(d / "data/organisations.csv", "123456789", "12345678X"),
        "data/organisations.csv",
        3,
        "siren",
        "invalid siren '12345678X'",
    ),
    "dangling reference": (
        lambda d: _edit(d / "data/memberships.csv", "lycee-x,c1", "lycee-y,c1"),
        "data/memberships.csv",
        2,
        "member",
        "'lycee-y' does not exist",
    ),
    "duplicate id": (
        lambda d: _append(d / "data/campuses.csv", "c1,src-a,Campus Deux,,,"),
        "data/campuses.csv",
        3,
        "id",
        "duplicate id 'c1' with source 'src-a', first on line 2",
    ),
    "unknown vocabulary code": (
        lambda d: _edit(d / "data/memberships.csv", "pilote", "chef"),
        "data/memberships.csv",
        2,
        "role",
        "unknown code 'chef'",
    ),
    "empty required value": (
        lambda d: _edit(d / "data/campuses.csv", "c1,src-a,Campus Un", "c1,src-a,"),
        "data/campuses.csv",
        2,
        "name_fr",
        "required value is empty",
    ),
    "wrong number of cells": (
        lambda d: _append(d / "data/campuses.csv", "c2,src-a,Campus Deux"),
        "data/campuses.csv",
        3,
        None,
        "3 cells for 6 columns",
    ),
    "invalid id": (
        lambda d: _edit(d / "data/campuses.csv", "c1,src-a", "C 1,src-a"),
        "data/campuses.csv",
        2,
        "id",
        "invalid id 'C 1'",
    ),
    "not UTF-8": (
        lambda d: (d / "data/campuses.csv").write_bytes(
            (d / "data/campuses.csv").read_text().replace("Un", "\u00e9").encode("latin-1")
        ),
        "data/campuses.csv",
        2,
        "name_fr",
        "not valid UTF-8",
    ),
    "broken Turtle": (
        lambda d: _append(d / "ontology/cmq.ttl", "cmq:Broken a owl:Class ;; zz ."),
        "ontology/cmq.ttl",
        12,
        None,
        "invalid Turtle",
    ),
    "bad coordinates": (
        lambda d: _edit(d / "data/territories.csv", "49.18", "149.18"),
        "data/territories.csv",
        2,
        "latitude",
        "invalid latitude '149.18'",
    ),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A writable copy of the mini project, with a store already built from it."""
    shutil.copytree(MINI, tmp_path / "p")
    root = tmp_path / "p"
    build(root / "data", root / "ontology", root / "store", say=lambda _m: None)
    return root


def _snapshot(store_root: Path) -> set[str]:
    with EmbeddedStore.open(store_root) as store:
        return {str(q) for q in store.quads()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_reported_and_store_untouched(project: Path, case: str, capsys) -> None:
    breaker, file, line, field, words = CASES[case]
    before = _snapshot(project / "store")
    breaker(project)
    with pytest.raises(InputError) as err:
        build(project / "data", project / "ontology", project / "store", say=lambda _m: None)
    match = [p for p in err.value.problems if words in p.message]
    assert match, f"no problem says {words!r}: {err.value.report()}"
    problem = match[0]
    assert problem.file == str(project / file)
    assert problem.line == line
    assert problem.field == field
    assert _snapshot(project / "store") == before

    # Same through the CLI: non-zero exit, the message names file, line and field.
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
    where = f"{project / file}:{line}" if line else str(project / file)
    assert where in err_text and words in err_text
    assert _snapshot(project / "store") == before


def test_all_errors_of_a_run_are_reported_together(project: Path) -> None:
    for case in ("malformed date", "bad UAI", "unknown source id", "broken Turtle"):
        CASES[case][0](project)
    with pytest.raises(InputError) as err:
        build(project / "data", project / "ontology", project / "store", say=lambda _m: None)
    messages = " | ".join(p.message for p in err.value.problems)
    for words in ("invalid date", "invalid uai", "unknown source", "invalid Turtle"):
        assert words in messages


def test_shacl_violation_is_readable_and_store_untouched(project: Path) -> None:
    # Tighten a shape so the (unchanged) data breaks it: the report names entity, place and rule.
    (project / "ontology/shapes.ttl").write_text(
        (project / "ontology/shapes.ttl")
        .read_text()
        .replace('sh:minCount 1 ; sh:name "nom"', 'sh:minCount 2 ; sh:name "nom"')
    )
    before = _snapshot(project / "store")
    with pytest.raises(ValidationError) as err:
        build(project / "data", project / "ontology", project / "store", say=lambda _m: None)
    [line] = err.value.violations
    assert "« Campus Un »" in line and "Un campus doit avoir un nom" in line
    assert "campuses.csv:2" in line and "rdfs:label" in line
    assert _snapshot(project / "store") == before


def test_missing_store_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["stats", "--store", str(tmp_path / "nothing")]) == 4
    assert "run `cmq-graph build` first" in capsys.readouterr().err

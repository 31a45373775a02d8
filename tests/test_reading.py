"""Strict reading of the tables: each defect is refused with its file, line and column.

Each case breaks one table of the mini project and maps it (``map_tables``, which a build runs
first); the problem must name the file, the line, the column where it is known, and say what
is wrong. A FIFO is read in a child process with a deadline, so a hang fails the test.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
from pathlib import Path

import pytest

from cmq_graph.errors import InputError, Problem
from cmq_graph.mapping import map_tables
from cmq_graph.reading import read_rows
from cmq_graph.tables import BY_NAME, TABLES
from cmq_graph.vocabulary import load_ontology

MINI = Path(__file__).parent / "fixtures" / "mini"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    shutil.copytree(MINI / "data", tmp_path / "data")
    return tmp_path / "data"


def _problems(data: Path) -> list[Problem]:
    ontology_problems: list[Problem] = []
    ontology = load_ontology(MINI / "ontology", ontology_problems)
    assert not ontology_problems
    with pytest.raises(InputError) as err:
        map_tables(data, ontology)
    return err.value.problems


def _one(data: Path, words: str) -> Problem:
    found = [p for p in _problems(data) if words in p.message]
    assert found, f"no problem says {words!r}: {[str(p) for p in _problems(data)]}"
    return found[0]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_an_unterminated_quote_is_refused_on_its_line_and_does_not_swallow_the_next_rows(data: Path) -> None:
    path = data / "memberships.csv"
    lines = _lines(path)
    lines[1] = lines[1].replace(",pilote,", ',"pilote,')
    # Rows below it, one of them itself broken: both are reported, each on its own line.
    lines.append("m2,src-a,lycee-x,c1,pilote,2016-01")
    lines.append("m3,src-a,lycee-x,c1,pilote,2016-13")
    _write(path, lines)
    problems = _problems(data)
    quote = [p for p in problems if "never closed" in p.message]
    assert len(quote) == 1
    assert (quote[0].file, quote[0].line, quote[0].field) == (str(path), 2, "role")
    assert "character 21" in quote[0].message  # m1,src-a,lycee-x,c1," : the quote
    assert any(p.line == 4 and p.field == "start" and "2016-13" in p.message for p in problems)
    assert not any(p.line == 3 for p in problems)


def test_text_after_a_closing_quote_is_refused(data: Path) -> None:
    path = data / "organisations.csv"
    _write(path, [line.replace('"ACME, SA"', '"ACME, SA" et cie') for line in _lines(path)])
    problem = _one(data, "malformed quoting")
    assert (problem.line, problem.field) == (3, "name_fr")


@pytest.mark.parametrize(
    ("char", "name"), [("\x00", "U+0000"), ("\x07", "U+0007"), ("\t", "U+0009"), ("\x85", "U+0085")]
)
def test_control_characters_are_refused_with_their_column(data: Path, char: str, name: str) -> None:
    path = data / "campuses.csv"
    lines = _lines(path)
    lines[1] = lines[1].replace("Campus Un", f"Campus{char}Un")
    _write(path, lines)
    problem = _one(data, f"control character {name}")
    assert (problem.file, problem.line, problem.field) == (str(path), 2, "name_fr")


def test_a_line_break_inside_a_quoted_cell_is_refused(data: Path) -> None:
    path = data / "campuses.csv"
    lines = _lines(path)
    lines[1] = lines[1].replace("Campus Un", '"Campus\nUn"')
    _write(path, lines)
    problem = _one(data, "never closed")
    assert (problem.line, problem.field) == (2, "name_fr")


def test_a_cell_over_the_csv_limit_is_refused_not_a_crash(data: Path) -> None:
    path = data / "campuses.csv"
    lines = _lines(path)
    lines[1] = lines[1].replace("Campus Un", "x" * 131_073)
    _write(path, lines)
    problem = _one(data, "longer than 131,072 characters")
    assert (problem.line, problem.field) == (2, "name_fr")


def test_latin1_and_utf16_are_refused_a_bom_is_fine(data: Path) -> None:
    path = data / "organisations.csv"
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("latin-1"))
    problem = _one(data, "not valid UTF-8")
    assert (problem.line, problem.field) == (2, "name_fr") and "Latin-1" in problem.message
    assert "character 24" in problem.message  # the é of Lycée
    path.write_bytes(text.encode("utf-16"))
    assert _one(data, "UTF-16").line == 1
    path.write_bytes(text.encode("utf-8-sig"))
    shutil.copy(MINI / "data" / "campuses.csv", data / "campuses.csv")
    ontology = load_ontology(MINI / "ontology", [])
    assert map_tables(data, ontology).rows["organisations"] == 2


@pytest.mark.parametrize(
    "value", ["\u0662\u0660\u0661\u0665-03", "\uff12\uff10\uff11\uff15", "2015-\u0660\u0663"]
)
def test_dates_take_ascii_digits_only(data: Path, value: str) -> None:
    path = data / "memberships.csv"
    _write(path, [line.replace("2015-03", value) for line in _lines(path)])
    problem = _one(data, "invalid date")
    assert (problem.line, problem.field) == (2, "start")


@pytest.mark.parametrize("iri", ["http://[::1", "https://example.org/%zz", "https://example.org/a#b#c"])
def test_an_iri_oxigraph_refuses_is_a_cell_problem(data: Path, iri: str) -> None:
    path = data / "sources.csv"
    _write(path, [line.replace("https://example.org/a", iri) for line in _lines(path)])
    problem = _one(data, "invalid IRI")
    assert (problem.file, problem.line, problem.field) == (str(path), 2, "url")


def test_an_id_oxigraph_would_refuse_is_never_referenced(data: Path) -> None:
    # An invalid source id used by a row: the id is reported, not turned into an IRI.
    path = data / "sources.csv"
    _write(path, [line.replace("src-b,", "src b,") for line in _lines(path)])
    campuses = data / "campuses.csv"
    _write(campuses, [line.replace("c1,src-a,", "c1,src b,") for line in _lines(campuses)])
    problems = _problems(data)
    assert any(p.field == "id" and "invalid id 'src b'" in p.message for p in problems)
    assert any(p.file == str(campuses) and "unknown source 'src b'" in p.message for p in problems)


@pytest.mark.parametrize("how", ["missing", "dangling", "directory", "loop"])
def test_a_required_table_that_is_not_a_file_is_refused(data: Path, how: str) -> None:
    path = data / "memberships.csv"
    path.unlink()
    if how == "dangling":
        path.symlink_to(data / "nowhere.csv")
    elif how == "directory":
        path.mkdir()
    elif how == "loop":
        path.symlink_to(path.name)
    words = {
        "missing": "file is missing",
        "dangling": "broken symbolic link",
        "directory": "is a folder",
        "loop": "Too many levels of symbolic links",
    }[how]
    problem = _one(data, words)
    assert problem.file == str(path)


def test_an_optional_table_may_be_absent_but_not_broken(data: Path) -> None:
    optional = [t for t in TABLES if t.optional]
    required = [t for t in TABLES if not t.optional]
    assert optional and required
    assert not (data / "mergers.csv").exists() and BY_NAME["mergers"].optional
    (data / "mergers.csv").symlink_to(data / "nowhere.csv")
    assert _one(data, "broken symbolic link").file == str(data / "mergers.csv")


def test_a_renamed_table_is_refused(data: Path) -> None:
    (data / "memberships.csv").rename(data / "memberships-2024.csv")
    problems = _problems(data)
    assert any(p.file == str(data / "memberships-2024.csv") and "renamed" in p.message for p in problems)
    assert any(p.file == str(data / "memberships.csv") and "missing" in p.message for p in problems)


def _read_all(path: str, queue) -> None:
    problems: list[Problem] = []
    rows = list(read_rows(Path(path), ["id"], ["id"], problems))
    queue.put((len(rows), [str(p) for p in problems]))


def test_a_fifo_in_place_of_a_table_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "campuses.csv"
    os.mkfifo(fifo)
    queue: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_read_all, args=(str(fifo), queue))
    child.start()
    child.join(timeout=30)
    hung = child.is_alive()
    if hung:
        child.kill()
    assert not hung, "reading a FIFO blocked"
    rows, problems = queue.get(timeout=5)
    assert rows == 0 and problems == [f"{fifo}: is a FIFO (named pipe), not a file (expected: a CSV file)"]


def test_header_problems_are_named(data: Path) -> None:
    path = data / "campuses.csv"
    lines = _lines(path)
    lines[0] = lines[0].replace("short_name", "name_fr")
    _write(path, lines)
    assert _one(data, "appears twice").field == "name_fr"
    path.write_bytes(b"")
    assert _one(data, "empty file").line == 1


def test_the_data_guide_names_the_required_tables() -> None:
    guide = (MINI.parent.parent.parent / "data" / "README.md").read_text(encoding="utf-8")
    bullet = guide[guide.index("- **Fichiers**") :].split("\n- ")[0]
    named = set(re.findall(r"`([a-z_]+)`", bullet[: bullet.index("obligatoires")]))
    assert named == {t.name for t in TABLES if not t.optional}

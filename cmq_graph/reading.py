"""Reading the curated CSV files strictly: a bad file is refused with its line and column.

The contract (``data/README.md``) says a table is UTF-8 CSV (a byte-order mark is allowed), one
record per line, comma-separated, quoted as the ``csv`` module quotes. So each physical line is
parsed on its own: a quote opened and never closed is an error on *its* line (it cannot swallow
the rows below it into one cell), and no cell holds a line break or any other control character.
A table is a regular file: a FIFO, a device or a folder in its place is refused before it is
opened (opening a FIFO for reading would wait for a writer forever), as is a broken symlink.
"""

from __future__ import annotations

import csv
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from .errors import Problem

BOM = b"\xef\xbb\xbf"
# The csv module's own limit on a cell (131,072 characters by default), named in the error.
FIELD_LIMIT = csv.field_size_limit()
# C0 and C1 controls (tab and line breaks included: a record is one line), DEL, and the Unicode
# noncharacters, which XML and most tools refuse: none is ever meant in a curated cell.
_NONCHARACTERS = "".join(chr((plane << 16) | low) for plane in range(17) for low in (0xFFFE, 0xFFFF))
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ufdd0-\ufdef" + re.escape(_NONCHARACTERS) + "]")


class NotARegularFile(OSError):
    """A path that should be a readable regular file is something else (or nothing)."""

    def __init__(self, path: Path, message: str):
        super().__init__(message)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return self.message


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file; else raise :class:`NotARegularFile`.

    The file is opened non-blocking and its type checked on the open descriptor (no race with a
    file swapped in between), so a FIFO is refused at once instead of hanging the build.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if os.path.islink(path):
            raise NotARegularFile(path, f"broken symbolic link (to {os.readlink(path)})") from None
        raise NotARegularFile(path, "file is missing") from None
    except IsADirectoryError:
        raise NotARegularFile(path, "is a folder, not a file") from None
    except PermissionError:
        raise NotARegularFile(path, "cannot read it: permission denied") from None
    except OSError as exc:
        raise NotARegularFile(path, f"cannot open it: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotARegularFile(path, f"is {_kind(mode)}, not a file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _error_cell(text: str) -> tuple[int, int]:
    """(cell index, character column) where the csv module's strict parse of ``text`` broke.

    The column is that of the quote left open, of the character after a closing quote, or of
    the start of the first cell over the field limit.
    """
    cell, start, quoted, after_quote = 0, True, False, False
    opened = (0, 1)
    cell_start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == '"':
                if text[i + 1 : i + 2] == '"':
                    i += 1
                else:
                    quoted, after_quote = False, True
        elif after_quote and ch != ",":
            return cell, i + 1
        elif ch == ",":
            if i - cell_start > FIELD_LIMIT:
                return cell, cell_start + 1
            cell, start, after_quote, cell_start = cell + 1, True, False, i + 1
        elif ch == '"' and start:
            quoted, opened = True, (cell, i + 1)
        else:
            start = False
        i += 1
    return opened if quoted else (cell, cell_start + 1)


def _csv_problem(name: str, line: int, text: str, header: list[str] | None, exc: csv.Error) -> Problem:
    """The csv module's error, said for a curator, with the column it happened in."""
    cell, col = _error_cell(text)
    field = header[cell] if header is not None and cell < len(header) else None
    reason = str(exc)
    if "field larger than field limit" in reason:
        return Problem(
            name, line, field, f"a cell is longer than {FIELD_LIMIT:,} characters", "a shorter cell"
        )
    if "unexpected end of data" in reason:
        return Problem(
            name,
            line,
            field,
            f"a quote opened at character {col} is never closed on this line",
            'a closing quote before the end of the line (a quote inside a cell is written "")',
        )
    return Problem(
        name,
        line,
        field,
        f"malformed quoting at character {col} ({reason})",
        'a quoted cell ends with " followed by a comma or the end of the line',
    )


def _decode(
    name: str, number: int, raw: bytes, header: list[str] | None, problems: list[Problem]
) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint = "UTF-8 text (in a spreadsheet: save as « CSV UTF-8 »)"
        field = None
        if number == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            message = "the file is UTF-16, not UTF-8"
        else:
            before = raw[: exc.start].decode("utf-8", errors="replace")
            cell = len(next(csv.reader((before,)), [""])) - 1  # the cell the bad byte is in
            field = header[cell] if header is not None and 0 <= cell < len(header) else None
            message = (
                f"not valid UTF-8 at character {len(before) + 1} (byte 0x{raw[exc.start]:02x}; Latin-1?)"
            )
        problems.append(Problem(name, number, field, message, hint))
        return None


def _lines(fh: BinaryIO) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(fh, 1):
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        if raw.endswith(b"\n"):
            raw = raw[:-1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
        yield number, raw


class _OneLine:
    """The iterator a long-lived ``csv.reader`` reads: one line at a time, never the next one.

    When a quoted cell runs to the end of the line, the reader asks for more, gets nothing and
    (strict) raises "unexpected end of data": the quote is reported on its own line.
    """

    def __init__(self) -> None:
        self.line: str | None = None
        self.reader = csv.reader(self, strict=True)

    def __iter__(self) -> _OneLine:
        return self

    def __next__(self) -> str:
        line, self.line = self.line, None
        if line is None:
            raise StopIteration
        return line

    def cells(self, text: str) -> list[str]:
        if '"' not in text:
            cells = text.split(",")  # what the csv module gives for a line without quotes…
            if len(text) > FIELD_LIMIT and any(len(c) > FIELD_LIMIT for c in cells):
                raise csv.Error(f"field larger than field limit ({FIELD_LIMIT})")  # …and its limit
            return cells
        self.line = text
        return next(self.reader, [])


def _cells(
    name: str, number: int, raw: bytes, header: list[str] | None, problems: list[Problem], parser: _OneLine
) -> list[str] | None:
    """The cells of one line, or ``None`` (with a problem) when it cannot be read."""
    text = _decode(name, number, raw, header, problems)
    if text is None:
        return None
    try:
        cells = parser.cells(text)
    except csv.Error as exc:
        problems.append(_csv_problem(name, number, text, header, exc))
        return None
    if text.isprintable() or CONTROL.search(text) is None:  # isprintable(): the fast common case
        return cells
    for index, cell in enumerate(cells):
        bad = CONTROL.search(cell)
        if bad is not None:
            field = header[index] if header is not None and index < len(header) else None
            code = f"U+{ord(bad.group()):04X}"
            problems.append(
                Problem(
                    name,
                    number,
                    field,
                    f"control character {code} at character {bad.start() + 1} of the cell",
                    "printable text on one line (no tab, line break or control character)",
                )
            )
            return None
    return cells


def read_rows(path: Path, expected: Iterable[str], required: Iterable[str], problems: list[Problem]):
    """Yield ``(line, {column: stripped cell})`` for each record of the CSV file ``path``.

    ``expected`` are the columns the contract knows, ``required`` those the header must have.
    Problems (file type, encoding, quoting, control characters, header, cell count) go to
    ``problems``; a line with a problem yields nothing, and a bad header stops the file.
    """
    name = str(path)
    try:
        fh = open_regular(path)
    except NotARegularFile as exc:
        problems.append(Problem(name, None, None, exc.message, "a CSV file"))
        return
    with fh:
        header: list[str] | None = None
        parser = _OneLine()
        try:
            for number, raw in _lines(fh):
                cells = _cells(name, number, raw, header, problems, parser)
                if header is None:
                    if cells is None:
                        return
                    header = [h.strip() for h in cells]
                    if not _header_ok(name, header, list(expected), list(required), problems):
                        return
                    continue
                if cells is None or not any(c.strip() for c in cells):
                    continue
                if len(cells) != len(header):
                    problems.append(
                        Problem(
                            name,
                            number,
                            None,
                            f"{len(cells)} cells for {len(header)} columns",
                            "one cell per column",
                        )
                    )
                    continue
                yield number, {h: c.strip() for h, c in zip(header, cells, strict=True)}
        except OSError as exc:
            problems.append(Problem(name, None, None, f"cannot read it: {exc.strerror or exc}"))
            return
        if header is None:
            problems.append(Problem(name, 1, None, "empty file", "a header row: " + ",".join(expected)))


def _header_ok(
    name: str, header: list[str], expected: list[str], required: list[str], problems: list[Problem]
) -> bool:
    known = set(expected)
    ok = True
    for col in header:
        if col not in known:
            problems.append(Problem(name, 1, col, f"unknown column '{col}'", "one of " + ", ".join(expected)))
            ok = False
    for col in required:
        if col not in header:
            problems.append(Problem(name, 1, col, f"missing column '{col}'", "a column of that name"))
            ok = False
    seen: set[str] = set()
    for col in header:
        if col in seen:
            problems.append(Problem(name, 1, col, f"column '{col}' appears twice"))
            ok = False
            break
        seen.add(col)
    return ok


def table_files(data_dir: Path, tables: Iterable, problems: list[Problem]) -> list[tuple]:
    """``(table, path)`` for each table to read from ``data_dir``; report missing and stray files.

    A table the contract marks ``optional`` may be absent; any other path (a required table, or
    an optional one that is there but is a broken link, a folder, a FIFO…) is read, and the read
    reports what is wrong with it. A ``.csv`` file that is no table of the contract is refused:
    it is most often a table renamed by mistake, whose rows would be lost.
    """
    out = []
    names = set()
    for table in tables:
        path = data_dir / table.file
        names.add(table.file)
        if getattr(table, "optional", False) and not os.path.lexists(path):
            continue
        out.append((table, path))
    try:
        strays = sorted(p for p in data_dir.iterdir() if p.suffix.lower() == ".csv" and p.name not in names)
    except OSError as exc:
        problems.append(Problem(str(data_dir), None, None, f"cannot list the folder: {exc.strerror or exc}"))
        return []
    for stray in strays:
        problems.append(
            Problem(
                str(stray),
                None,
                None,
                "not a table of the data contract (a renamed table?)",
                "one of " + ", ".join(sorted(names)),
            )
        )
    return out


def iri_node(value: str) -> ox.NamedNode | None:
    """``value`` as an Oxigraph IRI, or ``None`` when Oxigraph's own IRI rules refuse it."""
    try:
        return ox.NamedNode(value)
    except ValueError:
        return None


# In a Turtle file tab, line feed and carriage return are whitespace; other controls are refused.
TEXT_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + re.escape(_NONCHARACTERS) + "]")


def plain_text(path: Path, raw: bytes, problems: list[Problem]) -> bool:
    """True when ``raw`` is UTF-8 with no control character but tab and line breaks; else a problem."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(str(path), line, None, f"not valid UTF-8 at byte {exc.start}", "UTF-8 text"))
        return False
    bad = TEXT_CONTROL.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        code = f"U+{ord(bad.group()):04X}"
        problems.append(Problem(str(path), line, None, f"control character {code}", "printable text"))
        return False
    return True

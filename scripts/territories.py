#!/usr/bin/env python3
"""Write the official territories into ``data/territories.csv`` from Etalab's découpage administratif.

Why: campuses, organisations and counts name régions, départements, communes and overseas
collectivités by their INSEE code (``region-28``, ``departement-76``, ``commune-76259``,
``collectivite-987``; Corsica's letters in lower case in ids: ``departement-2a``,
``commune-2a004``). Their names, codes, INSEE IRIs and what lies within what are not typed by
hand: they come from the npm package ``@etalab/decoupage-administratif`` at a pinned version.

How the generated rows live beside the curated ones: every row of ``data/territories.csv`` whose
``source`` is ``etalab-decoupage-administratif`` belongs to this script and is rewritten at each
run (after the curated rows, in a fixed order); every other row is curated and left as it is.
The script also rewrites that source's own row in ``data/sources.csv`` (package version, licence).

It writes every région, every département, every overseas collectivité (COM) of the package, and
every commune that ``data/*.csv`` references (``commune-NNNNN`` in any cell). Run it again after
adding a commune to the data::

    python scripts/territories.py                 # npm pack of the pinned version
    python scripts/territories.py --package DIR   # an unpacked package (its package.json is checked)

Exit status: 0 written, 2 a referenced commune is not a current commune of the package (named
with file and line), 3 the package could not be fetched or is not the pinned version.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
SOURCE_ID = "etalab-decoupage-administratif"
INSEE_GEO = "http://id.insee.fr/geo/"
COMMUNE_REF = re.compile(r"(?<![\w-])commune-((?:[0-9]{2}|2a|2b)[0-9]{3})(?![\w-])")
HEADER = [
    "id", "source", "kind", "name_fr", "name_en", "insee_code", "academie_code", "iso_code",
    "insee_iri", "wikidata", "within", "start", "end", "note",
]  # fmt: skip
SOURCE_HEADER = ["id", "title", "publisher", "url", "locator", "date_published", "note"]


class TerritoryError(Exception):
    """A problem that stops the run, with its exit status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Package:
    version: str
    licence: str
    regions: list[dict]
    departements: list[dict]
    communes: list[dict]


def load_package(folder: Path) -> Package:
    """Read an unpacked npm package (the folder holding ``package.json`` and ``data/``)."""
    meta = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    if meta.get("name") != PACKAGE:
        raise TerritoryError(f"{folder}/package.json: name is {meta.get('name')!r}, not {PACKAGE}", 3)

    def data(name: str) -> list[dict]:
        return json.loads((folder / "data" / f"{name}.json").read_text(encoding="utf-8"))

    return Package(
        meta["version"], meta.get("license", ""), data("regions"), data("departements"), data("communes")
    )


def fetch_package(into: Path) -> Path:
    """``npm pack`` the pinned version (the registry's tarball, checked by npm) and unpack it."""
    try:
        out = subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(into), "--silent"],
            check=True, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        raise TerritoryError(f"npm pack {PACKAGE}@{VERSION} failed: {exc}", 3) from exc
    tarball = into / out.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as tar:
        tar.extractall(into, filter="data")
    return into / "package"


def referenced_communes(data_dir: Path) -> dict[str, tuple[str, int]]:
    """Every ``commune-NNNNN`` cited in ``data/*.csv`` (outside the generated rows), first place cited."""
    found: dict[str, tuple[str, int]] = {}
    for path in sorted(data_dir.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            source_col = header.index("source") if "source" in header else None
            for cells in reader:
                if source_col is not None and source_col < len(cells) and cells[source_col] == SOURCE_ID:
                    continue
                for cell in cells:
                    for code in COMMUNE_REF.findall(cell):
                        found.setdefault(code, (str(path), reader.line_num))
    return found


def _row(**values: str) -> dict[str, str]:
    row = dict.fromkeys(HEADER, "")
    row.update(values, source=SOURCE_ID)
    return row


def generate(package: Package, communes: dict[str, tuple[str, int]]) -> list[dict[str, str]]:
    """The rows of the package: régions, COM, départements, then the referenced communes."""
    rows: list[dict[str, str]] = []
    com = {r["code"] for r in package.regions if r.get("zone") == "com"}
    for r in sorted(package.regions, key=lambda r: (r["code"] in com, r["code"])):
        code = r["code"]
        if code in com:
            note = "Collectivité d'outre-mer ou territoire à statut particulier (zone « com » du paquet)."
            rows.append(
                _row(
                    id=f"collectivite-{code.lower()}",
                    kind="collectivite",
                    name_fr=r["nom"],
                    insee_code=code,
                    note=note,
                )
            )
        else:
            iri = f"{INSEE_GEO}region/{code}"
            rows.append(
                _row(id=f"region-{code}", kind="region", name_fr=r["nom"], insee_code=code, insee_iri=iri)
            )
    for d in sorted(package.departements, key=lambda d: d["code"]):
        if d["code"] in com:
            continue  # a COM is one territory: its collectivite row above
        rows.append(
            _row(
                id=f"departement-{d['code'].lower()}",
                kind="departement",
                name_fr=d["nom"],
                insee_code=d["code"],
                insee_iri=f"{INSEE_GEO}departement/{d['code']}",
                within=f"region-{d['region'].lower()}",
            )
        )
    current = {c["code"].lower(): c for c in package.communes if c.get("type") == "commune-actuelle"}
    former: dict[str, str] = {}
    for c in package.communes:
        for old in c.get("anciensCodes", ()):
            former.setdefault(old.lower(), c["code"].lower())
    problems = []
    for code in sorted(communes):
        c = current.get(code)
        if c is None:
            file, line = communes[code]
            hint = f"; it became commune-{former[code]}" if code in former else ""
            problems.append(
                f"{file}:{line}: commune-{code} is not a current commune in {PACKAGE} {package.version}{hint}"
            )
            continue
        dep = c["departement"]
        within = f"collectivite-{dep.lower()}" if dep in com else f"departement-{dep.lower()}"
        rows.append(
            _row(
                id=f"commune-{code}",
                kind="commune",
                name_fr=c["nom"],
                insee_code=c["code"],
                insee_iri=f"{INSEE_GEO}commune/{c['code']}",
                within=within,
            )
        )
    if problems:
        raise TerritoryError("\n".join(problems), 2)
    return rows


def source_row(package: Package) -> dict[str, str]:
    return {
        "id": SOURCE_ID,
        "title": f"{PACKAGE} {package.version} (découpage administratif de la France, JSON)",
        "publisher": "Etalab",
        "url": f"https://www.npmjs.com/package/{PACKAGE}/v/{package.version}",
        "locator": "",
        "date_published": "",
        "note": (
            f"Paquet npm, licence {package.licence or 'non indiquée'} ; fichiers data/regions.json, "
            "data/departements.json, data/communes.json (codes officiels géographiques de l'INSEE). "
            "Lignes générées par scripts/territories.py."
        ),
    }


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def update(data_dir: Path, package: Package) -> tuple[int, int]:
    """Rewrite the package's rows of ``territories.csv`` and its row of ``sources.csv``."""
    if package.version != VERSION:
        raise TerritoryError(f"{PACKAGE} is version {package.version}, this script pins {VERSION}", 3)
    rows = generate(package, referenced_communes(data_dir))
    path = data_dir / "territories.csv"
    header, existing = _read_csv(path)
    curated = [r for r in existing if r.get("source") != SOURCE_ID]
    header = header + [h for h in HEADER if h not in header]
    _write_csv(path, header, curated + rows)

    src_path = data_dir / "sources.csv"
    src_header, sources = _read_csv(src_path)
    mine = source_row(package)
    mine = {h: mine.get(h, "") for h in src_header}
    kept = [r for r in sources if r.get("id") != SOURCE_ID]
    # In place when it exists, else after INSEE's row (not at the end, where others append rows).
    place = next((i for i, r in enumerate(sources) if r.get("id") == SOURCE_ID), None)
    if place is None:
        place = next((i + 1 for i, r in enumerate(kept) if r.get("id") == "insee-geo"), len(kept))
    kept.insert(place, mine)
    _write_csv(src_path, src_header or SOURCE_HEADER, kept)
    return len(curated), len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent / "data")
    parser.add_argument("--package", type=Path, help="an unpacked package folder (default: npm pack)")
    args = parser.parse_args(argv)
    try:
        if args.package:
            package = load_package(args.package)
            curated, generated = update(args.data, package)
        else:
            with tempfile.TemporaryDirectory(prefix="cmq-etalab-") as tmp:
                package = load_package(fetch_package(Path(tmp)))
                curated, generated = update(args.data, package)
    except TerritoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.status
    where = args.data / "territories.csv"
    print(f"{where}: {curated} curated rows kept, {generated} rows from {PACKAGE} {VERSION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

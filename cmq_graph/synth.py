"""Synthetic, national-scale CMQ ecosystems in the curated-table format, for scaling and benchmarks.

The real data is one région's worth of campuses; a national graph (≈ 200 campuses, thousands of
schools and companies) is not, and users link it to bigger graphs still. This module writes the
same CSV files, with exactly the headers of :mod:`cmq_graph.tables`, as ``data/``, so that a
benchmark exercises the whole build path (read, check, map, validate, load) on the project's own
``ontology/``.

What makes it useful rather than random:

* **shapes that matter for queries**: partner popularity is Zipf-like (a handful of national
  federations and pôles sit in most campuses, most companies in one), schools belong to one
  académie and are reused by nearby campuses, pilots are the région's conseil régional and the
  académie's rectorat (so they are shared too), territories nest commune ⊂ département ⊂
  académie ⊂ région;
* **plausible identifiers**: UAI ``^[0-9]{7}[A-Z]$`` whose first three digits are the département
  (``076…`` for Seine-Maritime, ``620``/``720`` for Corsica, ``974`` for La Réunion, as in the
  Annuaire de l'éducation) with the real check letter, Luhn-valid SIREN and SIRET;
* **time**: labellings from 2013 to 2025 (4-year labels, 5-year from 2019, renewals, the
  "excellence" mention from 2019), memberships with start and sometimes end dates, the 2020 merger
  of the Caen and Rouen académies;
* **reproducible**: everything comes from one ``random.Random(seed)``; the same configuration
  writes byte-identical files.

Synthetic data is marked as such and kept apart: every row cites the source ``synthetic`` (whose
title says so), every id starts with ``synth-`` (its own IRI space, ``…/id/{kind}/synth-…``), and
:func:`write` refuses to write into the project's ``data/`` folder, so it can never reach the
default build or the published graph.

Size: with the default per-campus parameters one campus brings about 76 rows and 815 triples
(≈ 10.7 triples per row, measured on the built graph with the project's ontology, counting what
the build adds for publication: the super-types entailed in ``graph/entailed`` and the VoID
description); the fixed part (ontology, vocabularies and shapes, territories, sources, labels,
their entailments) is about 8,800 triples.
:func:`campuses_for_triples` turns a triple target into a campus count: 1 campus for 10k
triples, 112 for 100k, 1,216 for 1M, 12,259 for 10M.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import paths
from .errors import CmqError
from .tables import BY_NAME, MULTI_SEPARATOR, TABLES

SOURCE_ID = "synthetic"
SOURCE_TITLE = "Données synthétiques (générées par cmq-graph synth) — fictives, à ne jamais publier"
PREFIX = "synth-"

# Triples brought by one campus with the default parameters, and by the fixed part; measured by
# building generated folders (see tests/test_synth.py::test_triples_per_row_is_as_documented).
TRIPLES_PER_CAMPUS = 815
FIXED_TRIPLES = 8_800

# -- territories: régions, académies, départements (real names and codes) ----------------------

# INSEE code -> (name, ISO 3166-2, approximate centre lat, lon)
REGIONS: dict[str, tuple[str, str, float, float]] = {
    "11": ("Île-de-France", "FR-IDF", 48.71, 2.50),
    "24": ("Centre-Val de Loire", "FR-CVL", 47.48, 1.68),
    "27": ("Bourgogne-Franche-Comté", "FR-BFC", 47.24, 4.81),
    "28": ("Normandie", "FR-NOR", 49.12, 0.11),
    "32": ("Hauts-de-France", "FR-HDF", 49.97, 2.78),
    "44": ("Grand Est", "FR-GES", 48.69, 5.61),
    "52": ("Pays de la Loire", "FR-PDL", 47.47, -0.82),
    "53": ("Bretagne", "FR-BRE", 48.18, -2.84),
    "75": ("Nouvelle-Aquitaine", "FR-NAQ", 45.19, 0.19),
    "76": ("Occitanie", "FR-OCC", 43.70, 2.14),
    "84": ("Auvergne-Rhône-Alpes", "FR-ARA", 45.51, 4.54),
    "93": ("Provence-Alpes-Côte d'Azur", "FR-PAC", 43.96, 6.06),
    "94": ("Corse", "FR-20R", 42.15, 9.09),
    "01": ("Guadeloupe", "FR-971", 16.20, -61.55),
    "02": ("Martinique", "FR-972", 14.64, -61.02),
    "03": ("Guyane", "FR-973", 3.93, -53.13),
    "04": ("La Réunion", "FR-974", -21.12, 55.53),
    "06": ("Mayotte", "FR-976", -12.82, 45.15),
}

# académie code -> (slug, name, région, départements)
ACADEMIES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "01": ("paris", "Paris", "11", ("75",)),
    "02": ("aix-marseille", "Aix-Marseille", "93", ("04", "05", "13", "84")),
    "03": ("besancon", "Besançon", "27", ("25", "39", "70", "90")),
    "04": ("bordeaux", "Bordeaux", "75", ("24", "33", "40", "47", "64")),
    "06": ("clermont-ferrand", "Clermont-Ferrand", "84", ("03", "15", "43", "63")),
    "07": ("dijon", "Dijon", "27", ("21", "58", "71", "89")),
    "08": ("grenoble", "Grenoble", "84", ("07", "26", "38", "73", "74")),
    "09": ("lille", "Lille", "32", ("59", "62")),
    "10": ("lyon", "Lyon", "84", ("01", "42", "69")),
    "11": ("montpellier", "Montpellier", "76", ("11", "30", "34", "48", "66")),
    "12": ("nancy-metz", "Nancy-Metz", "44", ("54", "55", "57", "88")),
    "13": ("poitiers", "Poitiers", "75", ("16", "17", "79", "86")),
    "14": ("rennes", "Rennes", "53", ("22", "29", "35", "56")),
    "15": ("strasbourg", "Strasbourg", "44", ("67", "68")),
    "16": ("toulouse", "Toulouse", "76", ("09", "12", "31", "32", "46", "65", "81", "82")),
    "17": ("nantes", "Nantes", "52", ("44", "49", "53", "72", "85")),
    "18": ("orleans-tours", "Orléans-Tours", "24", ("18", "28", "36", "37", "41", "45")),
    "19": ("reims", "Reims", "44", ("08", "10", "51", "52")),
    "20": ("amiens", "Amiens", "32", ("02", "60", "80")),
    "22": ("limoges", "Limoges", "75", ("19", "23", "87")),
    "23": ("nice", "Nice", "93", ("06", "83")),
    "24": ("creteil", "Créteil", "11", ("77", "93", "94")),
    "25": ("versailles", "Versailles", "11", ("78", "91", "92", "95")),
    "27": ("corse", "Corse", "94", ("2A", "2B")),
    "28": ("la-reunion", "La Réunion", "04", ("974",)),
    "31": ("martinique", "Martinique", "02", ("972",)),
    "32": ("guadeloupe", "Guadeloupe", "01", ("971",)),
    "33": ("guyane", "Guyane", "03", ("973",)),
    "43": ("mayotte", "Mayotte", "06", ("976",)),
    "70": ("normandie", "Normandie", "28", ("14", "27", "50", "61", "76")),
}
# Académies merged into Normandie on 1 January 2020 (predecessors, with their old codes).
MERGED_ACADEMIES = {"05": ("caen", "Caen", ("14", "50", "61")), "21": ("rouen", "Rouen", ("27", "76"))}

# Corsica's départements have their own UAI prefixes in the Annuaire de l'éducation.
UAI_PREFIX = {"2A": "620", "2B": "720"}
UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # 23 letters: the check letter is the number mod 23

SECTORS: dict[str, str] = {
    "transports": "Transports",
    "mobilite-aeronautique-transports": "Mobilité, aéronautique et transports",
    "chimie-biotechnologies": "Chimie et biotechnologies",
    "infrastructures-batiment-eco-construction": "Bâtiment et éco-construction",
    "materiaux-innovants": "Matériaux innovants",
    "creation-design-audiovisuel": "Création, design et audiovisuel",
    "alimentaire-agroalimentaire": "Alimentation et agroalimentaire",
    "services-a-la-personne": "Services à la personne",
    "services-entreprises-logistique": "Services aux entreprises et logistique",
}
METIER_FAMILIES = ("conception", "production", "qualification", "maintenance", "fonctions-support")

SCHOOL_KINDS = (
    ("lycee-professionnel", 45),
    ("lycee", 25),
    ("lycee-technologique", 12),
    ("cfa", 10),
    ("lycee-general", 8),
)
HIGHER_KINDS = (
    ("universite", 30),
    ("ecole-ingenieurs", 25),
    ("ecole-superieure", 15),
    ("laboratoire", 20),
    ("organisme-formation-continue", 10),
)
NATIONAL_KINDS = (
    ("federation-professionnelle", 40),
    ("pole-de-competitivite", 20),
    ("filiere", 10),
    ("entreprise", 20),
    ("association", 10),
)
LOCAL_KINDS = (
    ("entreprise", 75),
    ("association", 8),
    ("groupement", 7),
    ("universite", 2),
    ("ecole-ingenieurs", 2),
    ("laboratoire", 3),
    ("organisme-formation-continue", 3),
)
PARTNER_ROLES = (("partenaire", 70), ("membre", 15), ("soutien", 10), ("signataire", 5))
SCHOOL_ROLES = (("membre", 85), ("partenaire", 10), ("siege", 5))
# First labelling year: the waves of 2013–2016, then the "nouvelle génération" from 2019.
FIRST_YEARS = (
    (2013, 4),
    (2014, 8),
    (2015, 10),
    (2016, 10),
    (2017, 5),
    (2018, 4),
    (2019, 9),
    (2020, 10),
    (2021, 12),
    (2022, 10),
    (2023, 9),
    (2024, 5),
    (2025, 4),
)
COMPANY_WORDS = (
    "Industries",
    "Technologies",
    "Systèmes",
    "Services",
    "Ateliers",
    "Solutions",
    "Process",
    "Composites",
    "Logistique",
    "Énergies",
    "Matériaux",
    "Ingénierie",
)
COMPANY_STEMS = (
    "Alba",
    "Borea",
    "Cerix",
    "Delta",
    "Equin",
    "Fenix",
    "Galea",
    "Helio",
    "Ibex",
    "Jura",
    "Kalis",
    "Lumen",
    "Mistral",
    "Norma",
    "Orion",
    "Praxis",
    "Quartz",
    "Rivea",
    "Sirius",
    "Terra",
    "Ulysse",
    "Vega",
    "Woden",
    "Xeris",
    "Ysor",
    "Zephyr",
)
KIND_NAMES = {
    "lycee": "Lycée polyvalent",
    "lycee-general": "Lycée général",
    "lycee-technologique": "Lycée technologique",
    "lycee-professionnel": "Lycée professionnel",
    "cfa": "CFA",
    "universite": "Université",
    "ecole-ingenieurs": "École d'ingénieurs",
    "ecole-superieure": "École supérieure",
    "laboratoire": "Laboratoire",
    "organisme-formation-continue": "GRETA",
    "federation-professionnelle": "Fédération",
    "pole-de-competitivite": "Pôle de compétitivité",
    "filiere": "Filière",
    "association": "Association",
    "groupement": "Groupement d'entreprises",
}
PEOPLE = (
    "Marie Curie",
    "Jules Verne",
    "Victor Hugo",
    "Louise Michel",
    "Jean Jaurès",
    "Simone Veil",
    "Gustave Eiffel",
    "Colette",
    "Jean Moulin",
    "Rosa Parks",
    "Pierre Mendès France",
    "Olympe de Gouges",
    "Camille Claudel",
    "Albert Camus",
    "Louis Pasteur",
    "Sophie Germain",
    "Léonard de Vinci",
)


@dataclass(frozen=True)
class SynthConfig:
    """The knobs of a synthetic ecosystem (the defaults give the national picture, ≈ 200 campuses).

    ``shared_share`` is the share of a campus's partners drawn from the national pool (federations,
    pôles, big companies), with Zipf-like popularity of exponent ``zipf_exponent``; the rest are
    local organisations of the campus's région, of which ``local_reuse`` are already partners of
    another campus there. ``school_reuse`` is the chance that a school slot goes to a school of the
    académie already in another campus.
    """

    campuses: int = 200
    schools_per_campus: int = 8
    partners_per_campus: int = 30
    higher_per_campus: int = 3
    shared_share: float = 0.4
    zipf_exponent: float = 1.1
    school_reuse: float = 0.25
    local_reuse: float = 0.15
    seed: int = 1

    def __post_init__(self) -> None:
        if self.campuses < 1:
            raise ValueError("campuses must be ≥ 1")
        for name in ("schools_per_campus", "partners_per_campus", "higher_per_campus"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be ≥ 0")
        for name in ("shared_share", "school_reuse", "local_reuse"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")


@dataclass
class SynthSummary:
    """What :func:`write` wrote: the folder, the rows per table and the configuration."""

    out: Path
    rows: Counter[str] = field(default_factory=Counter)
    config: SynthConfig = field(default_factory=SynthConfig)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def campuses_for_triples(triples: int) -> int:
    """Campus count that gives about ``triples`` triples with the default per-campus parameters."""
    return max(1, round((triples - FIXED_TRIPLES) / TRIPLES_PER_CAMPUS))


# -- identifiers -----------------------------------------------------------------------------


def luhn_check_digit(digits: str) -> str:
    """The digit that makes ``digits + d`` pass the Luhn test (SIREN and SIRET use it)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # doubled positions, counted from the check digit's left neighbour
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def uai_prefix(departement: str) -> str:
    """The three leading digits of a UAI in ``departement`` (``076``, ``620`` for 2A, ``974``)."""
    return UAI_PREFIX.get(departement, departement.rjust(3, "0"))


def uai(departement: str, serial: int) -> str:
    """UAI of the ``serial``-th school of a département: prefix, four digits, check letter."""
    digits = f"{uai_prefix(departement)}{serial:04d}"
    return digits + UAI_LETTERS[int(digits) % 23]


def _weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


class _Generator:
    """One generation run: the random stream, the pools being filled, the rows being written."""

    def __init__(self, cfg: SynthConfig):
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.rows: dict[str, list[dict[str, str]]] = {t.name: [] for t in TABLES}
        self.sirens: set[str] = set()
        self.uai_serials: Counter[str] = Counter()
        self.communes: dict[str, list[str]] = {}  # département -> commune ids
        self.commune_count: Counter[str] = Counter()
        self.schools: dict[str, list[str]] = {}  # académie code -> school ids
        self.local: dict[str, list[str]] = {}  # région code -> local partner ids
        self.higher: dict[str, list[str]] = {}  # région code -> higher-education ids
        self.dept_academie: dict[str, str] = {}
        self.centre: dict[str, tuple[float, float]] = {}
        self.national: list[str] = []
        self.national_cum: list[float] = []
        self.org_count = 0
        # Bigger académies (more départements) hold more campuses.
        self.academie_codes = list(ACADEMIES)
        self.academie_weights = [len(v[3]) + 2 for v in ACADEMIES.values()]
        self.national_rank: dict[str, int] = {}

    # -- helpers --

    def add(self, table: str, **values: str) -> None:
        self.rows[table].append({k: v for k, v in values.items() if v})

    def siren(self) -> str:
        for _ in range(1000):
            body = f"{self.rng.randrange(10**8):08d}"
            number = body + luhn_check_digit(body)
            if number not in self.sirens and number[0] != "0":
                self.sirens.add(number)
                return number
        raise RuntimeError("could not draw a fresh SIREN in 1000 tries")  # pragma: no cover

    def siret(self, siren: str) -> str:
        """SIREN, a four-digit establishment number and the Luhn digit over all 14 digits."""
        body = siren + f"{self.rng.randrange(1, 10000):04d}"
        return body + luhn_check_digit(body)

    def point(self, region: str, spread: float = 0.9) -> tuple[str, str]:
        lat, lon = self.centre[region]
        return (
            f"{lat + self.rng.uniform(-spread, spread):.5f}",
            f"{lon + self.rng.uniform(-spread, spread):.5f}",
        )

    def date(self, year: int) -> str:
        return f"{year}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"

    # -- fixed part --

    def sources(self) -> None:
        self.add(
            "sources",
            id=SOURCE_ID,
            title=SOURCE_TITLE,
            publisher="cmq-graph",
            locator=f"cmq-graph synth, seed {self.cfg.seed}",
            date_published="2026",
            note="Jeu de données fictif pour les tests de montée en charge; aucune entité n'existe.",
        )

    def territories(self) -> None:
        for code, (name, iso, lat, lon) in REGIONS.items():
            self.centre[code] = (lat, lon)
            self.add(
                "territories",
                id=f"{PREFIX}region-{code}",
                source=SOURCE_ID,
                kind="region",
                name_fr=name,
                insee_code=code,
                iso_code=iso,
                start="2016-01-01" if code in {"24", "27", "28", "32", "44", "75", "76", "84"} else "",
                latitude=f"{lat:.4f}",
                longitude=f"{lon:.4f}",
            )
        for code, (slug, name, region, depts) in ACADEMIES.items():
            self.add(
                "territories",
                id=f"{PREFIX}academie-{slug}",
                source=SOURCE_ID,
                kind="academie",
                name_fr=f"Académie de {name}",
                academie_code=code,
                within=f"{PREFIX}region-{region}",
                start="2020-01-01" if slug == "normandie" else "",
            )
            for dept in depts:
                self.dept_academie[dept] = code
                self.add(
                    "territories",
                    id=f"{PREFIX}departement-{dept.lower()}",
                    source=SOURCE_ID,
                    kind="departement",
                    name_fr=f"Département {dept}",
                    insee_code=dept,
                    within=MULTI_SEPARATOR.join([f"{PREFIX}academie-{slug}", f"{PREFIX}region-{region}"]),
                )
        for code, (slug, name, _depts) in MERGED_ACADEMIES.items():
            self.add(
                "territories",
                id=f"{PREFIX}academie-{slug}",
                source=SOURCE_ID,
                kind="academie",
                name_fr=f"Académie de {name}",
                academie_code=code,
                within=f"{PREFIX}region-28",
                end="2019-12-31",
            )
        self.add(
            "mergers",
            id=f"{PREFIX}fusion-academies-normandie",
            source=SOURCE_ID,
            name_fr="Fusion des académies de Caen et de Rouen",
            predecessors=f"{PREFIX}academie-caen|{PREFIX}academie-rouen",
            successor=f"{PREFIX}academie-normandie",
            date="2020-01-01",
        )

    def labels(self) -> None:
        self.add(
            "labels",
            id=f"{PREFIX}label-cmq",
            source=SOURCE_ID,
            kind="label",
            name_fr="Campus des métiers et des qualifications (synthétique)",
            duration_years="4",
            max_duration_years="5",
        )
        self.add(
            "labels",
            id=f"{PREFIX}mention-excellence",
            source=SOURCE_ID,
            kind="mention",
            name_fr="Mention excellence (synthétique)",
            mention_of=f"{PREFIX}label-cmq",
        )

    def bodies(self) -> None:
        """Conseils régionaux and rectorats: every campus's pilots, hence shared by many campuses."""
        for code, (name, *_rest) in REGIONS.items():
            lat, lon = self.point(code, 0.2)
            self.add(
                "organisations",
                id=f"{PREFIX}conseil-regional-{code}",
                source=SOURCE_ID,
                kind="conseil-regional",
                name_fr=f"Conseil régional {name}",
                status="public",
                siren=self.siren(),
                territories=f"{PREFIX}region-{code}",
                latitude=lat,
                longitude=lon,
            )
        for slug, name, region, _depts in ACADEMIES.values():
            lat, lon = self.point(region, 0.2)
            self.add(
                "organisations",
                id=f"{PREFIX}rectorat-{slug}",
                source=SOURCE_ID,
                kind="rectorat",
                name_fr=f"Rectorat de l'académie de {name}",
                status="public",
                territories=f"{PREFIX}academie-{slug}",
                latitude=lat,
                longitude=lon,
            )

    def national_pool(self) -> None:
        """National players, most popular first: their rank drives the Zipf-like popularity."""
        cfg = self.cfg
        size = max(20, round((cfg.campuses * cfg.partners_per_campus * cfg.shared_share) ** 0.5 * 3))
        cum = 0.0
        for rank in range(1, size + 1):
            kind = _weighted(self.rng, NATIONAL_KINDS)
            ident = self.organisation(kind, region=self.rng.choice(list(REGIONS)[:13]), national=True)
            self.national.append(ident)
            self.national_rank[ident] = rank
            cum += 1.0 / rank**cfg.zipf_exponent
            self.national_cum.append(cum)

    # -- organisations --

    def commune(self, dept: str, region: str) -> str:
        pool = self.communes.setdefault(dept, [])
        if pool and (len(pool) >= 60 or self.rng.random() < 0.7):
            # Big towns hold more schools and companies: skewed choice among existing communes.
            return pool[min(int(self.rng.paretovariate(1.2)) - 1, len(pool) - 1)]
        self.commune_count[dept] += 1
        n = self.commune_count[dept]
        # Distinct for n < 100 (7 is prime to 100 and 1000); the pool stops at 60 communes.
        number = f"{dept}{n * 7 % 1000:03d}" if len(dept) == 2 else f"{dept}{n * 7 % 100:02d}"
        ident = f"{PREFIX}commune-{number.lower()}"
        lat, lon = self.point(region)
        self.add(
            "territories",
            id=ident,
            source=SOURCE_ID,
            kind="commune",
            name_fr=f"{self.rng.choice(('Saint', 'Le', 'La', 'Les'))}-{self.rng.choice(COMPANY_STEMS)}"
            f"-sur-{self.rng.choice(COMPANY_STEMS)}",
            insee_code=number,
            within=f"{PREFIX}departement-{dept.lower()}",
            latitude=lat,
            longitude=lon,
        )
        pool.append(ident)
        return ident

    def organisation(self, kind: str, region: str, national: bool = False, dept: str | None = None) -> str:
        self.org_count += 1
        rng = self.rng
        stem = rng.choice(COMPANY_STEMS)
        if dept is None:
            academies = [a for a, v in ACADEMIES.items() if v[2] == region]
            dept = rng.choice(ACADEMIES[rng.choice(academies)][3])
        where = self.commune(dept, region)
        lat, lon = self.point(region, 0.8)
        row = {"source": SOURCE_ID, "kind": kind, "location": where, "latitude": lat, "longitude": lon}
        if kind in {k for k, _ in SCHOOL_KINDS}:
            self.uai_serials[dept] += 1
            if self.uai_serials[dept] >= 10000:
                raise ValueError(f"more than 9,999 schools in département {dept}: UAI numbers exhausted")
            code = uai(dept, self.uai_serials[dept] * 7 % 10000)
            ident = f"{PREFIX}uai-{code.lower()}"
            row |= {
                "name_fr": f"{KIND_NAMES[kind]} {rng.choice(PEOPLE)}",
                "uai": code,
                "status": "public" if rng.random() < 0.85 else "prive",
                "territories": f"{PREFIX}academie-{ACADEMIES[self.dept_academie[dept]][0]}",
            }
        else:
            siren = self.siren()
            ident = f"{PREFIX}siren-{siren}"
            company = kind == "entreprise"
            name = (
                f"{stem} {rng.choice(COMPANY_WORDS)}"
                if company
                else f"{KIND_NAMES.get(kind, kind)} {stem} {rng.choice(COMPANY_WORDS)}"
            )
            row |= {
                "name_fr": name + (" France" if national else ""),
                "siren": siren,
                "siret": self.siret(siren) if company else "",
                "status": "prive" if company or kind in {"association", "groupement"} else "public",
                "territories": "" if national else f"{PREFIX}region-{region}",
                "acronym": stem.upper()[:4] if kind in {"pole-de-competitivite", "filiere"} else "",
            }
        self.add("organisations", id=ident, **row)
        return ident

    # -- campuses --

    def campus(self, n: int) -> None:
        cfg, rng = self.cfg, self.rng
        academie = rng.choices(self.academie_codes, self.academie_weights)[0]
        slug, aname, region, depts = ACADEMIES[academie]
        sectors = rng.sample(list(SECTORS), 2 if rng.random() < 0.3 else 1)
        ident = f"{PREFIX}campus-{n:05d}"
        sites = [self.commune(rng.choice(depts), region) for _ in range(rng.randint(1, 3))]
        self.add(
            "campuses",
            id=ident,
            source=SOURCE_ID,
            name_fr=f"Campus des métiers et des qualifications {SECTORS[sectors[0]]} {aname} {n}",
            short_name=f"Campus {SECTORS[sectors[0]].split(',')[0].split(' et ')[0]} {aname} {n}",
            sectors=MULTI_SEPARATOR.join(sectors),
            metier_families=MULTI_SEPARATOR.join(rng.sample(METIER_FAMILIES, rng.randint(1, 3))),
            territories=MULTI_SEPARATOR.join([f"{PREFIX}region-{region}", f"{PREFIX}academie-{slug}"]),
            sites=MULTI_SEPARATOR.join(dict.fromkeys(sites)),
            url=f"https://example.org/synthetic/campus/{n}",
            description_fr=f"Campus fictif n° {n} ({SECTORS[sectors[0]].lower()}), académie de {aname}.",
        )
        first = self.labellings(
            ident, rng.choices([y for y, _ in FIRST_YEARS], [w for _, w in FIRST_YEARS])[0]
        )
        members = itertools.count(1)

        def member(org: str, role: str) -> None:
            year = min(first + rng.choice((0, 0, 0, 1, 2)), 2025)
            end = self.date(rng.randint(year + 1, 2026)) if rng.random() < 0.08 else ""
            start = self.date(year) if rng.random() < 0.6 else str(year)
            self.add(
                "memberships",
                id=f"{ident}-m{next(members)}",
                source=SOURCE_ID,
                member=org,
                organisation=ident,
                role=role,
                start=start,
                end=end,
            )

        member(f"{PREFIX}conseil-regional-{region}", "pilote")
        member(f"{PREFIX}rectorat-{slug}", "pilote")
        # Schools of the académie: one support school, the others members; some already serve
        # another campus of the académie.
        pool = self.schools.setdefault(academie, [])
        chosen: dict[str, None] = {}
        for _ in range(cfg.schools_per_campus):
            if pool and rng.random() < cfg.school_reuse:
                chosen.setdefault(rng.choice(pool), None)
                continue
            school = self.organisation(_weighted(rng, SCHOOL_KINDS), region, dept=rng.choice(depts))
            pool.append(school)
            chosen[school] = None
        for i, school in enumerate(chosen):
            member(
                school,
                ("etablissement-support" if rng.random() < 0.7 else "porteur")
                if i == 0
                else _weighted(rng, SCHOOL_ROLES),
            )
        higher = self.higher.setdefault(region, [])
        for _ in range(cfg.higher_per_campus):
            if len(higher) >= 4 and rng.random() < 0.6:
                org = rng.choice(higher)
            else:
                org = self.organisation(_weighted(rng, HIGHER_KINDS), region)
                higher.append(org)
            if org in chosen:
                continue
            chosen[org] = None
            member(org, _weighted(rng, (("membre", 60), ("partenaire", 40))))
        # Partners: national ones by Zipf-like popularity, local ones of the région.
        national = round(cfg.partners_per_campus * cfg.shared_share)
        picked: set[str] = set()
        for _ in range(national * 4):
            if len(picked) >= min(national, len(self.national)):
                break
            i = bisect.bisect_left(self.national_cum, rng.random() * self.national_cum[-1])
            picked.add(self.national[min(i, len(self.national) - 1)])
        for org in sorted(picked, key=self.national_rank.__getitem__):
            member(org, _weighted(rng, PARTNER_ROLES))
        local = self.local.setdefault(region, [])
        for _ in range(cfg.partners_per_campus - national):
            if local and rng.random() < cfg.local_reuse:
                org = rng.choice(local)
                if org in chosen:
                    continue
            else:
                org = self.organisation(_weighted(rng, LOCAL_KINDS), region)
                local.append(org)
            chosen[org] = None
            member(org, _weighted(rng, PARTNER_ROLES))

    def labellings(self, campus: str, year: int) -> int:
        """The first labelling in ``year`` and its renewals; returns the first year."""
        rng = self.rng
        first = year
        for _ in range(5):
            duration = 4 if year < 2019 else 5
            date = self.date(year)
            until = f"{year + duration}{date[4:]}"
            mention = f"{PREFIX}mention-excellence" if year >= 2019 and rng.random() < 0.35 else ""
            self.add(
                "labellings",
                id=f"{campus}-{year}",
                source=SOURCE_ID,
                campus=campus,
                label=f"{PREFIX}label-cmq",
                mention=mention,
                date=date,
                valid_until=until,
                duration_years=str(duration),
            )
            year += duration
            if year > 2025 or rng.random() < 0.2:
                break
        return first

    def run(self) -> dict[str, list[dict[str, str]]]:
        self.sources()
        self.territories()
        self.labels()
        self.bodies()
        self.national_pool()
        for n in range(1, self.cfg.campuses + 1):
            self.campus(n)
        return self.rows


def generate(cfg: SynthConfig) -> dict[str, list[dict[str, str]]]:
    """The rows of every table (only the tables that have rows), as column -> cell dicts."""
    return {name: rows for name, rows in _Generator(cfg).run().items() if rows}


class RefusedTarget(CmqError, ValueError):
    """Synthetic rows were about to be written where real data lives."""


def _refuse_project_data(out: Path) -> None:
    data = paths.DATA_DIR.resolve()
    target = out.resolve()
    if target == data or data in target.parents:
        raise RefusedTarget(f"refusing to write synthetic data into the project's data folder ({data})")


def write(out: Path, cfg: SynthConfig) -> SynthSummary:
    """Write the tables of ``cfg`` as CSV files into ``out`` (created; existing tables replaced).

    Headers are exactly the tables' contract, so ``cmq-graph build --data OUT`` reads them as it
    reads ``data/``. Refuses the project's ``data/`` folder: synthetic rows must never be built
    or published with the real ones.
    """
    _refuse_project_data(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = SynthSummary(out=out, config=cfg)
    tables = generate(cfg)
    for table in TABLES:
        path = out / table.file
        rows = tables.get(table.name)
        if not rows:
            path.unlink(missing_ok=True)
            continue
        header = BY_NAME[table.name].header
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows([row.get(col, "") for col in header] for row in rows)
        summary.rows[table.name] = len(rows)
    (out / "SYNTHETIC.md").write_text(
        "# Synthetic data — do not publish\n\n"
        "Written by `cmq-graph synth`; every entity is fictitious and every row cites the source "
        f"`{SOURCE_ID}`.\n\nConfiguration: `{asdict(cfg)}`\n",
        encoding="utf-8",
    )
    return summary

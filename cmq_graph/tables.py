"""The curated tables of ``data/``: their columns, what each column means, and the RDF it becomes.

This is the contract between the people who edit ``data/*.csv`` in a spreadsheet, the mapping
that turns rows into triples, the synthetic generator, and the documentation (``data/README.md``
is generated from it). One row is one *attestation*: a record (``id``) as stated by one source
(``source``). A record stated by two sources is two rows with the same ``id``; when they disagree,
both claims are kept, each in the named graph of its source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rdflib import URIRef
from rdflib.namespace import DCTERMS, OWL, RDFS, SKOS

from .namespaces import CMQ, ELI, GEO, ORG, SCHEMA

MULTI_SEPARATOR = "|"
FRANCE = URIRef("http://publications.europa.eu/resource/authority/country/FRA")

UAI = re.compile(r"^[0-9]{7}[A-Z]$")
SIREN = re.compile(r"^[0-9]{9}$")
SIRET = re.compile(r"^[0-9]{14}$")
NOR = re.compile(r"^[A-Z]{4}[0-9]{7}[A-Z]$")
INSEE_REGION = re.compile(r"^[0-9]{2}$")
INSEE_COMMUNE = re.compile(r"^(?:[0-9]{2}|2A|2B)[0-9]{3}$")
ACADEMIE_CODE = re.compile(r"^[0-9]{2}$")
ISO_3166_2 = re.compile(r"^FR-[A-Z0-9]{2,3}$")
WIKIDATA = re.compile(r"^http://www\.wikidata\.org/entity/Q[0-9]+$")
ROR = re.compile(r"^https://ror\.org/0[a-z0-9]{6}[0-9]{2}$")


@dataclass(frozen=True)
class Column:
    """One column of a table.

    kind: ``text`` (literal, language ``lang``), ``date`` (YYYY, YYYY-MM or YYYY-MM-DD),
    ``int`` (non-negative integer), ``decimal``, ``iri`` (absolute http(s) IRI, emitted as IRI),
    ``code`` (literal matching ``pattern``), ``enum`` (literal among ``values``),
    ``ref`` (id of a record in one of the tables ``targets``), ``concept`` (code of a SKOS
    concept in one of the schemes ``targets``), ``agent`` (a name, emitted as the IRI
    ``id/agent/{slug of the name}`` typed ``foaf:Agent`` with ``foaf:name``).

    entity_type: the column gives the row's own entity its kind, so a concept's
    ``cmq:entityClass`` becomes the row's ``rdf:type``. Only a table's ``kind`` column does: a
    column that describes *other* entities (a seat's ``represented_kind``, a step's
    ``actor_kinds``) must never type the row.
    """

    name: str
    kind: str
    predicate: URIRef | None
    required: bool = False
    multi: bool = False
    lang: str | None = None
    targets: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    values: tuple[str, ...] = ()
    doc: str = ""
    example: str = ""
    entity_type: bool = False
    # Further predicates that state the same value (an ELI property beside the project's own).
    also: tuple[URIRef, ...] = ()
    # When the cell has a value, the row's entity also gets this rdf:type (e.g. org:ChangeEvent).
    row_type: URIRef | None = None


@dataclass(frozen=True)
class Table:
    name: str
    path: str
    rdf_type: URIRef | None
    columns: tuple[Column, ...]
    doc: str = ""
    # When true the table has ``latitude`` and ``longitude`` columns, emitted as a GeoSPARQL
    # geometry (WKT point) at ``{entity}/geometry``.
    geometry: bool = False
    # Sources are the graphs themselves, so their table has no ``source`` column.
    sourced: bool = True
    extra_types: tuple[URIRef, ...] = field(default=())
    # (predicate, IRI) stated of every row's entity, e.g. the jurisdiction of French legal texts.
    constants: tuple[tuple[URIRef, URIRef], ...] = field(default=())
    # A required table must be in the data folder (header only when it has no rows); an optional
    # one may be absent. Either way a path that is there but is no readable file is refused.
    optional: bool = False

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def header(self) -> list[str]:
        head = ["id"] + (["source"] if self.sourced else [])
        head += [c.name for c in self.columns]
        if self.geometry:
            head += ["latitude", "longitude"]
        return head

    @property
    def required_header(self) -> list[str]:
        """Columns that must be present in the file (optional ones may be left out)."""
        return ["id"] + (["source"] if self.sourced else []) + [c.name for c in self.columns if c.required]


def text(name: str, predicate: URIRef, lang: str | None = "fr", **kw) -> Column:
    return Column(name, "text", predicate, lang=lang, **kw)


def ref(name: str, predicate: URIRef, *targets: str, **kw) -> Column:
    return Column(name, "ref", predicate, targets=targets, **kw)


def concept(name: str, predicate: URIRef, *schemes: str, **kw) -> Column:
    kw.setdefault("entity_type", name == "kind")
    return Column(name, "concept", predicate, targets=schemes, **kw)


def date(name: str, predicate: URIRef, **kw) -> Column:
    return Column(name, "date", predicate, **kw)


def code(name: str, predicate: URIRef, pattern: re.Pattern[str], **kw) -> Column:
    return Column(name, "code", predicate, pattern=pattern, **kw)


NAME_FR = text("name_fr", RDFS.label, required=True, doc="Nom officiel en français")
NAME_EN = text("name_en", RDFS.label, lang="en", doc="Name in English, where known")
DESCRIPTION_FR = text("description_fr", DCTERMS.description, doc="Description, in your own words")
DESCRIPTION_EN = text("description_en", DCTERMS.description, lang="en")
NOTE = text("note", RDFS.comment, doc="Curator's note: how the source words it, caveats")
URL = Column("url", "iri", SCHEMA.url, doc="Official web page")
WIKIDATA_COL = code("wikidata", OWL.sameAs, WIKIDATA, doc="Wikidata entity IRI")
ORG_KIND_SCHEMES = ("school-kind", "partner-kind", "body-kind")

SOURCES = Table(
    "sources",
    "source",
    CMQ.Source,
    sourced=False,
    doc="Every document the data cites. Each source is also the named graph of what it states.",
    columns=(
        text("title", DCTERMS.title, required=True, lang=None, doc="Title as published"),
        # The cell is the publisher's name; the graph gets an agent IRI ``id/agent/{slug}`` with that name.
        Column("publisher", "agent", DCTERMS.publisher, doc="Who published it (site or body), by name"),
        URL,
        text("locator", CMQ.locator, lang=None, doc="Where in it, when no URL is known"),
        date("date_published", DCTERMS.issued),
        date("date_consulted", CMQ.dateConsulted),
        NOTE,
    ),
)

LEGAL_TEXTS = Table(
    "legal_texts",
    "text",
    None,
    doc="Laws, décrets, arrêtés, code articles, official letters and court decisions.",
    # Every text of the table is French law or a French court's decision (EU country table).
    constants=((ELI.jurisdiction, FRANCE),),
    optional=True,
    columns=(
        concept(
            "kind",
            CMQ.kind,
            "legal-kind",
            required=True,
            also=(ELI.type_document,),
            doc="decret, arrete, loi, code, ...",
        ),
        NAME_FR,
        NAME_EN,
        text("number", ELI.number, lang=None, doc="Number: 2014-1100, D335-34, 386023"),
        date("date", ELI.date_document, doc="Date of signature"),
        code("nor", CMQ.nor, NOR, doc="NOR identifier, 12 characters"),
        Column("eli", "iri", OWL.sameAs, doc="Légifrance ELI IRI, only where sourced"),
        # Not eli:published_in: its domain is eli:Format (a manifestation), not the legal resource.
        text("published_in", DCTERMS.bibliographicCitation, lang=None, doc="JORF or BO reference"),
        date("date_published", ELI.date_publication),
        date("date_in_force", ELI.first_date_entry_in_force),
        date("date_no_longer_in_force", ELI.date_no_longer_in_force),
        ref("part_of", ELI.is_part_of, "legal_texts", doc="Section or code this belongs to"),
        ref("based_on", ELI.based_on, "legal_texts", multi=True),
        ref("amends", ELI.amends, "legal_texts", multi=True),
        ref("changes", ELI.changes, "legal_texts", multi=True, doc="Articles it inserted or changed"),
        ref("passed_by", ELI.passed_by, "organisations", multi=True, doc="Signing authorities"),
        ref("concerns", CMQ.concerns, "legal_texts", "labels", multi=True, doc="What a decision rules on"),
        ref("applicant", CMQ.applicant, "organisations", multi=True),
        text("outcome_fr", CMQ.outcome),
        URL,
        DESCRIPTION_FR,
        DESCRIPTION_EN,
        NOTE,
    ),
)

LABELS = Table(
    "labels",
    "label",
    None,
    doc="The CMQ label and its mentions (internationale, excellence), with their rules.",
    optional=True,
    columns=(
        concept("kind", CMQ.kind, "label-kind", required=True, doc="label or mention"),
        NAME_FR,
        NAME_EN,
        ref("mention_of", CMQ.mentionOf, "labels"),
        ref("created_by", CMQ.createdBy, "legal_texts", multi=True),
        ref("replaces", DCTERMS.replaces, "labels", multi=True),
        ref("tutelage", CMQ.underTutelageOf, "organisations", multi=True, doc="Ministries"),
        ref("awarded_by", CMQ.awardedBy, "organisations", multi=True),
        ref("examined_by", CMQ.examinedBy, "organisations", multi=True),
        ref("opinion_by", CMQ.opinionBy, "organisations", multi=True),
        ref("granted_by", CMQ.grantedBy, "organisations", multi=True, doc="Ministers signing the arrêté"),
        Column("duration_years", "int", CMQ.durationYears),
        Column("max_duration_years", "int", CMQ.maxDurationYears),
        concept("objectives", CMQ.objective, "objective", multi=True),
        ref("legal_basis", CMQ.legalBasis, "legal_texts", multi=True),
        DESCRIPTION_FR,
        DESCRIPTION_EN,
        NOTE,
    ),
)

PROCEDURE_STEPS = Table(
    "procedure_steps",
    "procedure-step",
    CMQ.ProcedureStep,
    doc="Steps of the labelling procedure, in order, with who acts and on which legal basis.",
    optional=True,
    columns=(
        ref("label", CMQ.stepOf, "labels", required=True),
        Column("order", "int", CMQ.stepOrder, required=True),
        NAME_FR,
        NAME_EN,
        ref("actors", CMQ.actor, "organisations", multi=True, doc="Named bodies that act"),
        concept("actor_kinds", CMQ.actorKind, *ORG_KIND_SCHEMES, multi=True, doc="Kinds of actor"),
        ref("legal_basis", CMQ.legalBasis, "legal_texts", multi=True),
        DESCRIPTION_FR,
        DESCRIPTION_EN,
        NOTE,
    ),
)

EXPERT_SEATS = Table(
    "expert_seats",
    "seat",
    CMQ.Seat,
    doc="Composition of the group of experts: how many seats each body or kind of body holds.",
    optional=True,
    columns=(
        ref("body", CMQ.seatIn, "organisations", required=True),
        NAME_FR,
        NAME_EN,
        Column("count", "int", CMQ.seatCount, required=True),
        ref("represented", CMQ.represents, "organisations", multi=True),
        concept("represented_kind", CMQ.representsKind, *ORG_KIND_SCHEMES, multi=True),
        ref("appointed_by", CMQ.appointedBy, "organisations", multi=True),
        ref("legal_basis", CMQ.legalBasis, "legal_texts", multi=True),
        NOTE,
    ),
)

ORGANISATIONS = Table(
    "organisations",
    "organisation",
    ORG.Organization,
    geometry=True,
    doc="Every organisation: ministries and public bodies, schools, universities, partners, companies.",
    columns=(
        concept("kind", CMQ.kind, *ORG_KIND_SCHEMES, required=True, multi=True),
        NAME_FR,
        NAME_EN,
        text("alt_names", SKOS.altLabel, multi=True),
        text("acronym", CMQ.acronym, lang=None),
        Column("status", "enum", CMQ.status, values=("public", "prive")),
        code("uai", CMQ.uai, UAI, doc="7 digits and a letter"),
        code("siren", CMQ.siren, SIREN, doc="9 digits"),
        code("siret", CMQ.siret, SIRET, doc="14 digits"),
        code("ror", OWL.sameAs, ROR, doc="ROR IRI"),
        WIKIDATA_COL,
        URL,
        date("founded", SCHEMA.foundingDate),
        date("dissolved", SCHEMA.dissolutionDate),
        text("address", SCHEMA.address, lang=None),
        ref("territories", CMQ.territory, "territories", multi=True, doc="Territory served"),
        ref("location", SCHEMA.location, "territories", doc="Site or place where it is"),
        ref("parent", ORG.subOrganizationOf, "organisations", multi=True),
        DESCRIPTION_FR,
        DESCRIPTION_EN,
        NOTE,
    ),
)

CAMPUSES = Table(
    "campuses",
    "campus",
    CMQ.Campus,
    doc="Campus des métiers et des qualifications (whatever their label status).",
    columns=(
        NAME_FR,
        NAME_EN,
        text("short_name", SKOS.altLabel, multi=True, doc="Usual name: Campus Propulsions Normandie"),
        text("acronym", CMQ.acronym, lang=None, doc="Acronym as written: CMQ3E, PTMS"),
        concept("stage", CMQ.stage, "campus-stage", doc="projet, candidature, pre-labellise, labellise"),
        text("sector_fr", CMQ.sectorStatement, doc="The sector as the source words it"),
        concept("filieres", CMQ.filiere, "filiere", multi=True, doc="National filière, only where sourced"),
        concept("sectors", CMQ.sector, "sector", multi=True),
        concept("metier_families", CMQ.metierFamily, "metier-family", multi=True),
        ref("territories", CMQ.territory, "territories", multi=True),
        ref("sites", SCHEMA.location, "territories", multi=True),
        ref("strategy", CMQ.basedOnStrategy, "policies", multi=True),
        ref("successor_of", DCTERMS.replaces, "campuses", multi=True, doc="Campus it succeeds (sourced)"),
        date("inaugurated", CMQ.inaugurationDate, doc="Date of its inauguration or launch"),
        URL,
        DESCRIPTION_FR,
        DESCRIPTION_EN,
        NOTE,
    ),
)

LABELLINGS = Table(
    "labellings",
    "labelling",
    CMQ.Labelling,
    doc="Award (or renewal) of the label to a campus. Disagreeing sources: same id, one row each.",
    columns=(
        ref("campus", CMQ.labelledCampus, "campuses", required=True),
        ref("label", CMQ.label, "labels", required=True),
        ref("mention", CMQ.mention, "labels"),
        date("date", CMQ.labellingDate),
        date("attested", CMQ.attestedOn, doc="Date the source says the label was held by"),
        date("valid_until", CMQ.validUntil),
        Column("duration_years", "int", CMQ.durationYears),
        ref("call", CMQ.call, "policies"),
        ref("legal_basis", CMQ.legalBasis, "legal_texts", multi=True),
        NOTE,
    ),
)

MEMBERSHIPS = Table(
    "memberships",
    "membership",
    ORG.Membership,
    doc="Who takes part in a campus (or in another organisation), in which role, when.",
    columns=(
        ref("member", ORG.member, "organisations", required=True),
        ref("organisation", ORG.organization, "campuses", "organisations", required=True),
        concept("role", ORG.role, "role", required=True),
        date("start", SCHEMA.startDate),
        date("end", SCHEMA.endDate),
        NOTE,
    ),
)

TERRITORIES = Table(
    "territories",
    "territory",
    None,
    geometry=True,
    doc="Régions, académies, départements, communes and sites, with their codes.",
    columns=(
        concept("kind", CMQ.kind, "territory-kind", required=True),
        NAME_FR,
        NAME_EN,
        code("insee_code", CMQ.inseeCode, re.compile(r"^(?:[0-9]{2}|2A|2B)[0-9]{0,3}$")),
        code("academie_code", CMQ.academieCode, ACADEMIE_CODE),
        code("iso_code", CMQ.isoCode, ISO_3166_2),
        Column("insee_iri", "iri", SKOS.exactMatch, doc="id.insee.fr IRI"),
        WIKIDATA_COL,
        ref("within", GEO.sfWithin, "territories", multi=True),
        date("start", SCHEMA.startDate, doc="Date it came into being"),
        date("end", SCHEMA.endDate),
        NOTE,
    ),
)

MERGERS = Table(
    "mergers",
    "merger",
    CMQ.TerritorialMerger,
    doc="Mergers of régions and académies: which became which, when, by which text.",
    optional=True,
    columns=(
        NAME_FR,
        NAME_EN,
        ref("predecessors", CMQ.mergedTerritory, "territories", required=True, multi=True),
        ref("successor", CMQ.resultingTerritory, "territories", required=True),
        ref(
            "original_organisations",
            ORG.originalOrganization,
            "organisations",
            multi=True,
            row_type=ORG.ChangeEvent,
            doc="Bodies that ceased in the merger (the Régions as collectivités), where ORG fits",
        ),
        ref(
            "resulting_organisation",
            ORG.resultingOrganization,
            "organisations",
            row_type=ORG.ChangeEvent,
            doc="Body the merger formed",
        ),
        date("date", CMQ.effectiveDate, required=True),
        ref("legal_basis", CMQ.legalBasis, "legal_texts", multi=True),
        NOTE,
    ),
)

POLICIES = Table(
    "policies",
    "policy",
    None,
    doc="Calls for projects and regional strategies the label relies on.",
    optional=True,
    columns=(
        concept("kind", CMQ.kind, "policy-kind", required=True),
        NAME_FR,
        NAME_EN,
        Column("number", "int", CMQ.callNumber, doc="Rank of a national call (1st, 2nd...)"),
        date("date", DCTERMS.date),
        ref("territory", CMQ.territory, "territories"),
        ref("announced_in", CMQ.announcedIn, "legal_texts", multi=True),
        Column("applications", "int", CMQ.applicationCount),
        DESCRIPTION_FR,
        DESCRIPTION_EN,
        NOTE,
    ),
)

COUNTS = Table(
    "counts",
    "count",
    CMQ.LabelCount,
    doc="Published figures of labelled campuses at a date (sources disagree: one row per figure).",
    optional=True,
    columns=(
        date("date", DCTERMS.date, required=True),
        date("period_start", CMQ.periodStart),
        ref("label", CMQ.label, "labels", required=True),
        ref("territory", CMQ.territory, "territories"),
        ref("call", CMQ.call, "policies", doc="Call for projects (wave) the figure counts"),
        ref("mention", CMQ.mention, "labels", doc="Mention the figure counts (excellence)"),
        concept("filiere", CMQ.filiere, "filiere", doc="National filière the figure counts"),
        Column("total", "int", CMQ.totalCampuses),
        Column("new", "int", CMQ.newCampuses),
        Column("regions", "int", CMQ.regionCount),
        text("wording_fr", CMQ.wording, doc="The figure as worded: « plus d'une centaine »"),
        NOTE,
    ),
)

TABLES: tuple[Table, ...] = (
    SOURCES,
    LEGAL_TEXTS,
    LABELS,
    PROCEDURE_STEPS,
    EXPERT_SEATS,
    ORGANISATIONS,
    CAMPUSES,
    LABELLINGS,
    MEMBERSHIPS,
    TERRITORIES,
    MERGERS,
    POLICIES,
    COUNTS,
)
BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

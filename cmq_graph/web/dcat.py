"""The DCAT-AP 3.0.1 record of the publication: catalogue, dataset, one distribution per dump.

Written by ``cmq-graph site`` once the dumps exist (their sizes and SHA-256 checksums are only
known then), and checked against the DCAT-AP 3.0.1 SHACL shapes shipped in
``ontology/standards/dcat-ap-3.0.1/`` (``tests/test_dcat.py``). Coverage is read from the graph
(the places and dates it states), never typed in here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SH, SKOS, XSD, Namespace

from ..namespaces import BASE, ID, PREFIXES, SHAPES_GRAPH
from ..store import GraphStore
from .void import DATASET_IRI
from .void import LICENCE as VOID_LICENCE

SPDX = Namespace("http://spdx.org/rdf/terms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
CATALOG_IRI = BASE + "catalog"
# Licence Ouverte / Open Licence 2.0 (Etalab), the licence the vocabularies already declare.
LICENCE = URIRef(VOID_LICENCE)
IANA = "https://www.iana.org/assignments/media-types/"
EU_THEME = "http://publications.europa.eu/resource/authority/data-theme"
EU_COUNTRY_FRA = URIRef("http://publications.europa.eu/resource/authority/country/FRA")
EU_FRENCH = URIRef("http://publications.europa.eu/resource/authority/language/FRA")
EU_ENGLISH = URIRef("http://publications.europa.eu/resource/authority/language/ENG")
# EU data themes: Education, culture and sport; Government and public sector.
THEMES = {
    "EDUC": ("Éducation, culture et sport", "Education, culture and sport"),
    "GOVE": ("Gouvernement et secteur public", "Government and public sector"),
}

_DATES = """
SELECT (MIN(?d) AS ?start) (MAX(?d) AS ?end) WHERE {
  GRAPH ?g { ?s ?p ?v }
  ?g a cmq:Source .
  FILTER(DATATYPE(?v) = xsd:date)
  BIND(?v AS ?d)
}
"""


@dataclass(frozen=True)
class Dump:
    """A file of the publication: where it is, what it holds, its size and checksum."""

    url: str  # absolute download URL
    media_type: str  # e.g. text/turtle
    title: str
    byte_size: int
    sha256: str
    compressed: bool = True
    description: str = ""


def _coverage(store: GraphStore) -> tuple[Literal | None, Literal | None]:
    """The earliest and latest calendar dates the sources state (empty when none)."""
    rows = store.query(_DATES).rows
    if not rows or rows[0][0] is None:
        return None, None
    start, end = rows[0]
    return Literal(str(start), datatype=XSD.date), Literal(str(end), datatype=XSD.date)


def dcat_record(
    store: GraphStore,
    dumps: Sequence[Dump],
    *,
    version: str,
    site_url: str,
    publisher: str,
    endpoint_url: str | None = None,
) -> Graph:
    """The DCAT-AP graph describing the publication at ``site_url``."""
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    g.bind("spdx", SPDX)
    g.bind("dcatap", DCATAP)
    catalog, dataset = URIRef(CATALOG_IRI), URIRef(DATASET_IRI)
    agent = URIRef(BASE + "id/publisher")

    def text(s: URIRef | BNode, p: URIRef, fr: str, en: str) -> None:
        g.add((s, p, Literal(fr, lang="fr")))
        g.add((s, p, Literal(en, lang="en")))

    g.add((agent, RDF.type, FOAF.Agent))
    g.add((agent, FOAF.name, Literal(publisher)))
    g.add((LICENCE, RDF.type, DCTERMS.LicenseDocument))
    text(LICENCE, RDFS.label, "Licence Ouverte / Open Licence version 2.0", "Open Licence 2.0 (Etalab)")

    g.add((catalog, RDF.type, DCAT.Catalog))
    text(catalog, DCTERMS.title, "Catalogue du graphe des CMQ", "Catalogue of the CMQ graph")
    text(
        catalog,
        DCTERMS.description,
        "Les jeux de données publiés par le projet cmq-graph.",
        "The datasets published by the cmq-graph project.",
    )
    g.add((catalog, DCTERMS.publisher, agent))
    g.add((catalog, DCTERMS.license, LICENCE))
    g.add((catalog, FOAF.homepage, URIRef(site_url)))
    g.add((catalog, DCAT.dataset, dataset))
    g.add((catalog, DCAT.themeTaxonomy, URIRef(EU_THEME)))
    g.add((catalog, DCTERMS.language, EU_FRENCH))

    g.add((URIRef(EU_THEME), RDF.type, SKOS.ConceptScheme))
    g.add((URIRef(EU_THEME), DCTERMS.title, Literal("Data theme", lang="en")))
    for code, (fr, en) in THEMES.items():
        theme = URIRef(f"{EU_THEME}/{code}")
        g.add((theme, RDF.type, SKOS.Concept))
        text(theme, SKOS.prefLabel, fr, en)
        g.add((theme, SKOS.inScheme, URIRef(EU_THEME)))
        g.add((dataset, DCAT.theme, theme))
    for lang in (EU_FRENCH, EU_ENGLISH):
        g.add((lang, RDF.type, DCTERMS.LinguisticSystem))

    g.add((dataset, RDF.type, DCAT.Dataset))
    text(
        dataset,
        DCTERMS.title,
        "Graphe de connaissances des Campus des métiers et des qualifications",
        "Knowledge graph of the Campus des Métiers et des Qualifications",
    )
    text(
        dataset,
        DCTERMS.description,
        "Le label, ses textes, ses instances, les campus, leurs pilotes, partenaires et établissements, "
        "leurs territoires et secteurs ; chaque affirmation cite sa source, les désaccords sont gardés.",
        "The label, its legal texts and bodies, the campuses, their pilots, partners and schools, "
        "territories and sectors; every statement cites its source, disagreements are kept.",
    )
    g.add((dataset, DCTERMS.publisher, agent))
    g.add((dataset, DCTERMS.license, LICENCE))
    g.add((dataset, URIRef(str(DCAT) + "version"), Literal(version)))
    g.add((dataset, DCTERMS.identifier, Literal(DATASET_IRI)))
    g.add((dataset, DCTERMS.language, EU_FRENCH))
    g.add((dataset, DCAT.landingPage, URIRef(site_url)))
    g.add((URIRef(site_url), RDF.type, FOAF.Document))
    for word in ("campus des métiers et des qualifications", "formation professionnelle", "label"):
        g.add((dataset, DCAT.keyword, Literal(word, lang="fr")))
    g.add((dataset, DCTERMS.spatial, EU_COUNTRY_FRA))
    g.add((EU_COUNTRY_FRA, RDF.type, DCTERMS.Location))
    start, end = _coverage(store)
    if start is not None:
        period = URIRef(DATASET_IRI + "#temporal")
        g.add((dataset, DCTERMS.temporal, period))
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        g.add((period, DCAT.startDate, start))
        g.add((period, DCAT.endDate, end))
    g.add((dataset, URIRef("http://rdfs.org/ns/void#uriSpace"), Literal(ID)))
    # The SHACL shapes the data conforms to, published apart (shapes.ttl, dumps/shapes.ttl.gz).
    shapes = URIRef(SHAPES_GRAPH)
    g.add((dataset, DCTERMS.conformsTo, shapes))
    g.add((shapes, RDF.type, DCTERMS.Standard))
    text(shapes, DCTERMS.title, "Formes SHACL du graphe des CMQ", "SHACL shapes of the CMQ graph")

    if endpoint_url:
        service = URIRef(BASE + "sparql")
        g.add((service, RDF.type, DCAT.DataService))
        text(service, DCTERMS.title, "Point d'accès SPARQL", "SPARQL endpoint")
        g.add((service, DCAT.endpointURL, URIRef(endpoint_url)))
        g.add((service, DCAT.servesDataset, dataset))
        g.add((service, DCTERMS.license, LICENCE))
        g.add((catalog, DCAT.service, service))

    gzip = URIRef(IANA + "application/gzip")
    for dump in dumps:
        dist = URIRef(dump.url)
        g.add((dataset, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCTERMS.title, Literal(dump.title, lang="en")))
        if dump.description:
            g.add((dist, DCTERMS.description, Literal(dump.description, lang="en")))
        g.add((dist, DCAT.accessURL, URIRef(dump.url)))
        g.add((dist, DCAT.downloadURL, URIRef(dump.url)))
        media = URIRef(IANA + dump.media_type)
        g.add((dist, DCAT.mediaType, media))
        g.add((media, RDF.type, DCTERMS.MediaType))
        if dump.compressed:
            g.add((dist, DCAT.compressFormat, gzip))
            g.add((gzip, RDF.type, DCTERMS.MediaType))
        g.add((dist, DCAT.byteSize, Literal(dump.byte_size, datatype=XSD.nonNegativeInteger)))
        g.add((dist, DCTERMS.license, LICENCE))
        checksum = URIRef(dump.url + "#sha256")
        g.add((dist, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(dump.sha256, datatype=XSD.hexBinary)))
    g.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))
    return g


SHAPES_DIR = Path(__file__).resolve().parents[2] / "ontology" / "standards" / "dcat-ap-3.0.1"


def dcat_ap_shapes() -> tuple[Graph, list[URIRef]]:
    """The DCAT-AP 3.0.1 shapes, and the property shapes they name but do not define.

    The published ``dcat-ap-SHACL.ttl`` of 3.0.1 lists two ``sh:property`` of
    ``dcat:DataServiceShape`` that it never defines; pySHACL refuses such a file, so those two
    dangling references are dropped (every defined constraint is kept) and returned.
    """
    g = Graph()
    for name in ("dcat-ap-SHACL.ttl", "range.ttl"):
        g.parse(SHAPES_DIR / name)
    missing = [o for o in set(g.objects(None, SH.property)) if (o, SH.path, None) not in g]
    for ref in missing:
        g.remove((None, SH.property, ref))
    return g, missing  # type: ignore[return-value]

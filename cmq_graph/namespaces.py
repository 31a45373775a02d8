"""Base IRIs, prefixes and the rules that mint an entity's IRI.

Everything that names a resource goes through this module, so that the IRI scheme is written
down once: entities are slash IRIs under ``{base}id/{kind}/{key}``, vocabulary concepts under
``{base}vocab/{scheme}/{code}``, the ontology is the hash namespace ``{base}def#``.
Every source cited by ``data/sources.csv`` is also the name of the graph that holds its claims.
"""

from __future__ import annotations

import os
import re

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

DEFAULT_BASE = "https://w3id.org/cmq/"
BASE = os.environ.get("CMQ_GRAPH_BASE", DEFAULT_BASE)
if not BASE.endswith("/"):
    BASE += "/"

CMQ = Namespace(BASE + "def#")
ONTOLOGY_IRI = BASE + "def"
VOCAB = BASE + "vocab/"
ID = BASE + "id/"

# Named graphs that do not belong to one cited source.
ONTOLOGY_GRAPH = ONTOLOGY_IRI
VOCAB_GRAPH = BASE + "vocab"
SHAPES_GRAPH = BASE + "shapes"
META_GRAPH = BASE + "graph/meta"

ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("https://schema.org/")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")
SH = Namespace("http://www.w3.org/ns/shacl#")
VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
TIME = Namespace("http://www.w3.org/2006/time#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
IGEO = Namespace("http://rdf.insee.fr/def/geo#")

PREFIXES: dict[str, str] = {
    "cmq": str(CMQ),
    "id": ID,
    "vocab": VOCAB,
    "org": str(ORG),
    "schema": str(SCHEMA),
    "eli": str(ELI),
    "geo": str(GEO),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "sh": str(SH),
    "void": str(VOID),
    "dcat": str(DCAT),
    "foaf": str(FOAF),
    "igeo": str(IGEO),
}

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def sparql_prefixes() -> str:
    """PREFIX lines for every namespace above, to prepend to a query text."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def entity_iri(path: str, key: str) -> str:
    """IRI of an entity of table ``path`` (e.g. ``campus``) with stable key ``key``."""
    return f"{ID}{path}/{key}"


def concept_iri(scheme: str, code: str) -> str:
    return f"{VOCAB}{scheme}/{code}"


def scheme_iri(scheme: str) -> str:
    return f"{VOCAB}{scheme}"


def source_iri(source_id: str) -> str:
    """A source's IRI, which is also the name of the graph holding what the source says."""
    return entity_iri("source", source_id)


def compact(iri: str) -> str:
    """Shortest prefixed form of ``iri`` (``cmq:Campus``), or the IRI itself."""
    best = None
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and (best is None or len(ns) > len(PREFIXES[best])):
            best = prefix
    if best is None:
        return iri
    local = iri[len(PREFIXES[best]) :]
    if re.fullmatch(r"[A-Za-z0-9_\-./]*", local) and not local.endswith("."):
        return f"{best}:{local}"
    return iri

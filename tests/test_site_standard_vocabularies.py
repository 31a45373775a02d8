"""Readable without our ontology: ten ordinary ORG, ELI, PROV, DCTERMS and schema.org questions,
written without ``cmq:`` and without a reasoner, answer on the triple-only export, because the
build materialises the super-types and super-properties the ontology declares."""

from __future__ import annotations

import io

import pyoxigraph as ox
import pytest

from cmq_graph.export import export
from cmq_graph.web.void import ENTAILED_GRAPH

P = """
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""

QUESTIONS = {
    "organisations and their names": "SELECT ?o ?name WHERE { ?o a org:Organization ; rdfs:label ?name }",
    "members of each collaboration": """SELECT ?collab ?member WHERE {
        ?collab a org:OrganizationalCollaboration .
        ?m org:organization ?collab ; org:member ?member . ?member a org:Organization }""",
    "formal organisations": "SELECT ?o WHERE { ?o a org:FormalOrganization }",
    "legal resources and their dates": """SELECT ?text ?date WHERE {
        ?text a eli:LegalResource ; eli:date_document|eli:date_publication ?date }""",
    "subdivisions of legal resources": """SELECT ?part ?whole WHERE {
        ?part a eli:LegalResourceSubdivision ; eli:is_part_of ?whole . ?whole a eli:LegalResource }""",
    "activities and what they used": "SELECT ?a ?used WHERE { ?a a prov:Activity ; prov:used ?used }",
    "what references which legal text": """SELECT ?s ?text WHERE {
        ?s dcterms:references ?text . ?text a eli:LegalResource }""",
    "where organisations act": """SELECT ?o ?place ?name WHERE {
        ?o a org:Organization ; dcterms:spatial ?place . ?place a dcterms:Location ; rdfs:label ?name }""",
    "identifiers of places": """SELECT ?place ?id WHERE {
        ?place a dcterms:Location ; dcterms:identifier ?id }""",
    "government bodies (schema.org)": "SELECT ?o WHERE { ?o a schema:GovernmentOrganization }",
}


def _export(store, keep_entailed: bool) -> ox.Store:
    buf = io.BytesIO()
    export(store, "nq", buf)
    quads = ox.parse(buf.getvalue(), format=ox.RdfFormat.N_QUADS)
    entailed = ox.NamedNode(ENTAILED_GRAPH)
    triples = {
        ox.Quad(q.subject, q.predicate, q.object)  # default graph: a plain triple dump
        for q in quads
        if keep_entailed or q.graph_name != entailed
    }
    # Only the data: a client without our ontology (no schema, no shapes) reads the dump.
    ontology_free = ox.Store()
    ontology_free.bulk_extend(triples)
    return ontology_free


@pytest.fixture(scope="module")
def answers(store) -> dict[str, tuple[int, int]]:
    with_entailed, without = _export(store, True), _export(store, False)

    def count(s: ox.Store, q: str) -> int:
        return sum(1 for _ in s.query(P + q))

    return {name: (count(with_entailed, q), count(without, q)) for name, q in QUESTIONS.items()}


def test_questions_do_not_use_our_vocabulary():
    assert all("cmq:" not in q and "w3id.org/cmq" not in q for q in QUESTIONS.values())


@pytest.mark.parametrize("name", QUESTIONS)
def test_standard_question_answers_on_the_export(answers, name):
    assert answers[name][0] > 0, name


def test_materialisation_is_what_makes_them_answer(answers):
    """Without the entailed graph most of these questions find nothing."""
    unanswered = [name for name, (_with, without) in answers.items() if without == 0]
    assert len(unanswered) >= 6, answers

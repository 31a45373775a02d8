"""Model corrections of issue 10 on the built curated graph: publishers as agents, ELI properties,
mergers as org:ChangeEvent where organisations merged. Expectations are read from data/*.csv."""

from __future__ import annotations

import csv

from cmq_graph import api, paths
from cmq_graph.mapping import agent_slug
from cmq_graph.namespaces import ID
from cmq_graph.store import EmbeddedStore


def table(name: str) -> list[dict[str, str]]:
    with open(paths.DATA_DIR / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def rows(store: EmbeddedStore, sparql: str) -> set[tuple[str, ...]]:
    return {tuple("" if v is None else str(v) for v in r) for r in api.run(store, sparql).rows}


def test_agent_slug() -> None:
    assert agent_slug("Ministère de l'Éducation nationale — Bulletin officiel") == (
        "ministere-de-l-education-nationale-bulletin-officiel"
    )
    assert agent_slug("CGT Éduc'action") == "cgt-educ-action"


def test_publishers_are_agents_with_their_name(store: EmbeddedStore) -> None:
    got = rows(
        store,
        """SELECT ?source ?agent ?name WHERE {
             ?source a cmq:Source ; dcterms:publisher ?agent . ?agent a foaf:Agent ; foaf:name ?name }""",
    )
    expected = {
        (f"{ID}source/{s['id']}", f"{ID}agent/{agent_slug(s['publisher'])}", s["publisher"])
        for s in table("sources")
        if s["publisher"]
    }
    assert got == expected
    assert rows(store, "SELECT ?s WHERE { ?s dcterms:publisher ?p FILTER(isLiteral(?p)) }") == set()


def test_legal_texts_use_eli_properties(store: EmbeddedStore) -> None:
    texts = {t["id"] for t in table("legal_texts")}
    fra = "http://publications.europa.eu/resource/authority/country/FRA"
    got = rows(store, "SELECT ?t ?j WHERE { ?t eli:jurisdiction ?j }")
    assert got == {(f"{ID}text/{t}", fra) for t in texts}
    kinds = rows(store, "SELECT ?t ?k WHERE { ?t eli:type_document ?k }")
    assert kinds == {
        (f"{ID}text/{t['id']}", f"https://w3id.org/cmq/vocab/legal-kind/{t['kind']}")
        for t in table("legal_texts")
    }
    numbers = rows(store, "SELECT ?t ?n WHERE { ?t eli:number ?n }")
    assert numbers == {(f"{ID}text/{t['id']}", t["number"]) for t in table("legal_texts") if t["number"]}
    # eli:published_in has domain eli:Format: a legal resource never carries it.
    assert rows(store, "SELECT ?t WHERE { ?t eli:published_in ?p }") == set()
    cited = rows(store, "SELECT ?t ?c WHERE { ?t dcterms:bibliographicCitation ?c }")
    assert cited == {
        (f"{ID}text/{t['id']}", t["published_in"]) for t in table("legal_texts") if t["published_in"]
    }


def test_mergers_of_organisations_are_org_change_events(store: EmbeddedStore) -> None:
    got = rows(
        store,
        """SELECT ?m ?original ?result WHERE {
             ?m a org:ChangeEvent , cmq:TerritorialMerger ;
                org:originalOrganization ?original ; org:resultingOrganization ?result }""",
    )
    expected = {
        (f"{ID}merger/{m['id']}", f"{ID}organisation/{o}", f"{ID}organisation/{m['resulting_organisation']}")
        for m in table("mergers")
        for o in m["original_organisations"].split("|")
        if m["original_organisations"]
    }
    assert expected and got == expected
    # A merger of académies alone (no organisation named) is not typed as an ORG change event.
    plain = {m["id"] for m in table("mergers") if not m["original_organisations"]}
    typed = rows(store, "SELECT ?m WHERE { ?m a org:ChangeEvent }")
    assert plain and not any((f"{ID}merger/{m}",) in typed for m in plain)


def test_a_pilot_is_not_founded_after_the_labelling_without_saying_so(store: EmbeddedStore) -> None:
    """Région Normandie (founded 2016) piloting a campus labelled in 2015 carries the explanation."""
    late = rows(
        store,
        """SELECT DISTINCT ?m ?note WHERE {
             ?m org:member ?org ; org:organization ?campus .
             ?org schema:foundingDate ?founded .
             ?l cmq:labelledCampus ?campus ; cmq:labellingDate ?date .
             FILTER(STR(?founded) > STR(?date))
             OPTIONAL { ?m rdfs:comment ?note }
           }""",
    )
    assert late, "the data has such a case (Région Normandie): the query must find it"
    for _m, note in late:
        assert "2016" in note

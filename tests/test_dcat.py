"""The DCAT-AP record conforms to the DCAT-AP 3.0.1 shapes; VoID answers the sources question."""

from __future__ import annotations

import hashlib

from pyshacl import validate
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, RDF, SKOS

from cmq_graph import catalog, paths
from cmq_graph.web.dcat import SPDX, Dump, dcat_ap_shapes, dcat_record
from cmq_graph.web.void import DATASET_IRI


def _shapes() -> Graph:
    g, missing = dcat_ap_shapes()
    assert len(missing) <= 2  # the two undefined DataService property shapes of 3.0.1
    return g


def _dumps() -> list[Dump]:
    body = b"<a> <b> <c> .\n"
    digest = hashlib.sha256(body).hexdigest()
    return [
        Dump("https://example.org/dumps/cmq.nt.gz", "application/n-triples", "N-Triples", len(body), digest),
        Dump("https://example.org/dumps/cmq.nq.gz", "application/n-quads", "N-Quads", len(body), digest),
    ]


def test_dcat_record_conforms_to_dcat_ap_3_0_1(store):
    record = dcat_record(
        store,
        _dumps(),
        version="test",
        site_url="https://example.org/",
        publisher="cmq-graph",
        endpoint_url="https://example.org/sparql",
    )
    conforms, _graph, text = validate(record, shacl_graph=_shapes(), advanced=True, allow_warnings=True)
    assert conforms, text
    dists = list(record.objects(URIRef(DATASET_IRI), DCAT.distribution))
    assert len(dists) == 2
    for dist in dists:
        checksum = record.value(dist, SPDX.checksum)
        assert record.value(checksum, SPDX.checksumValue) is not None
        assert record.value(dist, DCAT.byteSize) is not None


def test_shapes_catch_a_broken_record(store):
    """The check can fail: a distribution without its access URL and a dataset without title."""
    record = dcat_record(store, _dumps(), version="t", site_url="https://example.org/", publisher="p")
    for dist in list(record.subjects(RDF.type, DCAT.Distribution)):
        record.remove((dist, DCAT.accessURL, None))
    conforms, _graph, text = validate(record, shacl_graph=_shapes(), advanced=True, allow_warnings=True)
    assert not conforms
    assert "accessURL" in text


def test_concept_schemes_conform(store):
    """The SKOS schemes carry the dcterms:title the DCAT-AP ConceptScheme shape asks for."""
    vocab = Graph()
    for path in sorted((paths.ONTOLOGY_DIR / "vocabularies").glob("*.ttl")):
        vocab.parse(path)
    schemes = _shapes()
    conforms, _graph, text = validate(vocab, shacl_graph=schemes, allow_warnings=True)
    assert conforms, text
    assert len(list(vocab.subjects(RDF.type, SKOS.ConceptScheme))) >= 14


def test_sources_reads_void_and_keeps_its_answers(store):
    """The catalogue's sources question (reading VoID) equals a count over the statements."""
    answer = catalog.run(store, "sources")
    by_source = {str(r["source"]): (int(r["statements"]), int(r["entities"])) for r in answer.dicts()}
    counted = store.query(
        "SELECT ?g (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?e) "
        "WHERE { ?g a cmq:Source . GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    )
    expected = {str(g): (int(n), int(e)) for g, n, e in counted.rows}
    assert expected
    for source, counts in by_source.items():
        assert counts == expected.get(source, (0, 0)), source

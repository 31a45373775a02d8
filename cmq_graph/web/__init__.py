"""Linked-data publication: the SPARQL service (``serve``), resource pages, dataset metadata,
ontology docs and the static site."""

"""Linked-data publication: resource pages, dataset metadata, ontology docs, the static site."""

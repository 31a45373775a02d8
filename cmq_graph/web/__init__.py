"""Linked-data publication: the SPARQL service (``serve``) and the pages, metadata and site."""

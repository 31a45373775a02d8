# The two commands of the README: `make run` (build the graph and show it) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run serve test lint system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

MAPS := var/maps

run: $(STAMP)
	$(BIN)/cmq-graph build
	mkdir -p $(MAPS)
	$(BIN)/cmq-graph map overview -o $(MAPS)/carte-ensemble.html --png
	$(BIN)/cmq-graph map governance -o $(MAPS)/carte-gouvernance.html
	$(BIN)/cmq-graph map shared-partners -o $(MAPS)/carte-partenaires-partages.html
	$(BIN)/cmq-graph map atlas -o $(MAPS)/atlas.html
	@echo "Cartes (s'ouvrent hors ligne dans un navigateur) : $(abspath $(MAPS))/"
	@echo "Point d'accès SPARQL et page de requêtes : make serve (PORT=$(PORT))"

PORT ?= 8000

serve: $(STAMP)
	$(BIN)/cmq-graph serve --port $(PORT)

system-deps:
	bash scripts/system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check cmq_graph tests benchmarks

test: $(STAMP) system-deps lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) var test-artifacts

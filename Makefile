# Two entry points a new user needs (see README): `make history` and `make test`.
# Each creates .venv and installs the project into it when needed, so either can run first
# on a fresh machine and either can be run again.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
REPLICATES ?= 100

.PHONY: history test setup bench notebooks clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,viz]"
	touch $(STAMP)

setup: $(STAMP)

history: $(STAMP)
	$(BIN)/escalation run scenarios/history.toml --replicates $(REPLICATES) --out results/history --force

test: $(STAMP)
	./scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/escalation bench

# JupyterLab (the `notebooks` extra) into .venv, then the notebooks in it; Ctrl-C stops it.
# Jupyter refuses to run as root without --allow-root (containers and CI machines run as root).
notebooks: $(STAMP)
	$(BIN)/python -c "import jupyterlab" 2>/dev/null || \
		$(BIN)/python -m pip install --quiet -e ".[test,viz,notebooks]"
	cd notebooks && $(abspath $(BIN))/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

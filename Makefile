# CNN Explorer — `make run` serves the app, `make test` runs the linters and every test. Both set everything up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
RUN_DEBS := graphviz dataset-fashion-mnist fonts-wqy-microhei
# A class behind nginx (scripts/serve_class.py): the proxy and a PostgreSQL run store; the tests start both.
SERVE_DEBS := nginx postgresql
TEST_DEBS := $(RUN_DEBS) chromium $(SERVE_DEBS)
REPLICAS ?= 2
SERVE_PORT ?= 8500
STREAMLIT_FLAGS := --server.fileWatcherType none --browser.gatherUsageStats false

.PHONY: run serve-class test test-fast bench docs lint setup setup-dev clean messages font

run: setup
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true $(STREAMLIT_FLAGS)

# A class on one machine as on many (docs/deploy.md): PostgreSQL, $(REPLICAS) Streamlit replicas, a training worker and
# nginx on port $(SERVE_PORT) in front; Ctrl-C stops them all.
serve-class: setup
	@scripts/system-deps.sh $(SERVE_DEBS)
	$(PY) scripts/serve_class.py --replicas $(REPLICAS) --port $(SERVE_PORT)

test: lint
	$(PY) -m pytest

test-fast: setup-dev
	$(PY) -m pytest -m "not slow"

# The benchmarks; their output, headed by the date and the machine, is written to docs/bench-results.md.
bench: setup-dev
	$(PY) scripts/bench.py --report docs/bench-results.md

# The generated parts of the docs (the models table, the README's counts); tests/test_docs.py fails when they are stale.
docs: setup
	$(PY) scripts/docs.py

lint: setup-dev
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

setup: $(VENV)/.runtime-installed
	@scripts/system-deps.sh $(RUN_DEBS)

setup-dev: $(VENV)/.dev-installed
	@scripts/system-deps.sh $(TEST_DEBS)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# Extract the marked strings (babel.cfg; `python -m` so that its library extractor imports explorer) and merge them into the Chinese catalog; translate the new empty msgstr
# entries in explorer/i18n/locale/zh/LC_MESSAGES/messages.po (the app reads the .po itself: nothing to compile).
messages: setup-dev
	$(PY) -m babel.messages.frontend extract -F babel.cfg --no-location --sort-output --project "CNN Explorer" \
		-o explorer/i18n/locale/messages.pot .
	$(PY) -m babel.messages.frontend update -i explorer/i18n/locale/messages.pot -d explorer/i18n/locale -l zh --no-fuzzy-matching --ignore-obsolete -w 120

# The web font's subset: WenQuanYi Micro Hei cut to the characters of the catalog, the notes and the glossary.
font: setup-dev
	$(PY) scripts/font_subset.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

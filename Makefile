# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed


.PHONY: run test lint bench install translations translations-update clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(RUNTIME): requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(DEV): requirements-dev.txt requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(RUNTIME) $@

install: $(RUNTIME)

translations: $(RUNTIME)
	$(VENV)/bin/pybabel compile --use-fuzzy -d inbox/translations -D messages

translations-update: $(RUNTIME)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l --no-location --sort-output --project Tawasul -o inbox/translations/messages.pot .
	$(VENV)/bin/pybabel update -i inbox/translations/messages.pot -d inbox/translations --no-fuzzy-matching

run: install translations
	$(PY) app.py

test: $(DEV) translations
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(DEV)
	$(PY) bench/ingest.py

lint: $(DEV)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) instance tests/artifacts/*.png

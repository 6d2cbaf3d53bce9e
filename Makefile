# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test install translations translations-update clean

$(STAMP): requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

translations: $(STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -d inbox/translations -D messages

translations-update: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l --no-location --sort-output --project Tawasul -o inbox/translations/messages.pot .
	$(VENV)/bin/pybabel update -i inbox/translations/messages.pot -d inbox/translations --no-fuzzy-matching

run: install translations
	$(PY) app.py

test: install translations
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance tests/artifacts/*.png

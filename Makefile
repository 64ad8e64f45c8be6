# Set-up and entry points. `make demo` and `make test` work on a fresh machine: they create the
# virtual environment, install torch (exact pin: a local CPU wheel here; a looser pin pulls CUDA),
# install motionworld in editable mode, then run.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/motionworld validate scenes/garden/scene.yaml scenes/plaza/scene.yaml
	$(BIN)/motionworld play scenes/garden/scene.yaml --fallback-render demo.mp4

test: $(STAMP)
	$(BIN)/python -m pytest -q

# the rule set is in pyproject.toml ([tool.ruff]); .ci/run runs this before the tests
lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) demo.mp4 captures build .pytest_cache .hypothesis *.egg-info

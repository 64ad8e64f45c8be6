# Set-up and entry points. `make demo` and `make test` work on a fresh machine: they create the
# virtual environment, install torch (exact pin: a local CPU wheel here; a looser pin pulls CUDA),
# install motionworld in editable mode, then run.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-fast lint clean

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

# The edit-run loop (under 2 minutes on 2 cores): the unit tests of every layer, the scene, session, CLI,
# registries and serve tests, without the slow (training, evaluation), window and browser ones. `make test`
# runs everything; CI runs `make test`.
FAST_TESTS := actions api_docs api_errors camera cli_options conditioning controllers depth formats frames \
	guided_decoder gym hygiene klt layers metrics model_cache model_dit model_parts model_student paths \
	registries scene serve session synth tracks warp world
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser and not display" $(FAST_TESTS:%=tests/test_%.py)

# the rule set is in pyproject.toml ([tool.ruff]); .ci/run runs this before the tests
lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) demo.mp4 captures build .pytest_cache .hypothesis *.egg-info

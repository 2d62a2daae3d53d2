# Two entry points (see README): `make demo` and `make test`.
# Both build a project virtual environment in .venv/ once and reuse it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rotated_tod-installed
MAX_JOBS ?= 2

.PHONY: setup demo test lint bench clean-venv

setup: $(STAMP)

# mmcv-full has no wheel for this torch: pip builds it from source with its
# C++ ops, against the torch already in the venv (hence --no-build-isolation).
# pip caches the built wheel, so a rebuilt venv does not recompile it.
$(STAMP): requirements/build.txt requirements/mmcv.txt requirements/runtime.txt requirements/tests.txt setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements/build.txt
	MMCV_WITH_OPS=1 MAX_JOBS=$(MAX_JOBS) $(BIN)/pip install -q --no-build-isolation -r requirements/mmcv.txt
	$(BIN)/pip install -q -r requirements/runtime.txt -r requirements/tests.txt
	$(BIN)/pip install -q --no-build-isolation --no-deps -e .
	$(BIN)/python -c "import rotated_tod, mmcv.ops; print('rotated_tod stack ready')"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python tools/demo.py --out demo_out

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

lint: $(STAMP)
	$(BIN)/ruff check rotated_tod tools tests bench configs

bench: $(STAMP)
	$(BIN)/python bench/gaussian_metrics.py
	$(BIN)/python bench/eval_speed.py
	$(BIN)/python bench/train_step.py

clean-venv:
	rm -rf $(VENV)

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
# C++ ops, against the torch already in the venv (hence --no-build-isolation);
# tools/setup/install_mmcv.py prints progress and keeps pip's log in a file.
# pip caches the built wheel, so a rebuilt venv does not recompile it.
$(STAMP): requirements/build.txt requirements/mmcv.txt requirements/runtime.txt requirements/tests.txt setup.py tools/setup/install_mmcv.py
	@echo "rotated_tod set-up, once: a virtual environment in $(VENV)/ (next runs reuse it)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "[1/4] build stack: torch, torchvision, numpy, setuptools (about 2 GB download, 1-3 min)"
	$(BIN)/pip install -q -r requirements/build.txt
	@echo "[2/4] mmcv-full"
	$(BIN)/python tools/setup/install_mmcv.py --log $(VENV)/mmcv-build.log --jobs $(MAX_JOBS)
	@echo "[3/4] mmdet, mmrotate, test tools (about 1 min)"
	$(BIN)/pip install -q -r requirements/runtime.txt -r requirements/tests.txt
	@echo "[4/4] rotated_tod (editable)"
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
	$(BIN)/python bench/merge_speed.py
	$(BIN)/python bench/cpu_ops.py
	$(BIN)/python bench/train_step.py

clean-venv:
	rm -rf $(VENV)

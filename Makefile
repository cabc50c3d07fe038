# Dataset Gates - the two commands of the README.
#   make demo   set everything up and run a real ComfyUI with this pack on http://127.0.0.1:8188
#   make test   set everything up and run ALL tests (unit + integration + e2e)
#   make bench  benchmarks against the plan's design (not part of make test)
#   make soak   200 gated runs with random answers (make test runs 30)
#   make lint   ruff over the Python, eslint over web/ (make test runs it first)
#   make validate  the Comfy Registry's checks (comfy node validate), no warning allowed (make test runs it)
PY := .venv/bin/python

.PHONY: setup test unit lint validate demo typecheck bench soak
setup:
	bash scripts/setup-comfyui

test: setup
	bash scripts/lint
	bash scripts/validate
	bash scripts/typecheck
	$(PY) -m pytest tests -v --durations=15 -n 2 --dist loadgroup

unit:
	$(PY) -m pytest tests/unit -q

typecheck:
	bash scripts/typecheck

lint:
	bash scripts/lint

validate:
	bash scripts/validate

demo: setup
	$(PY) scripts/demo.py

bench: setup
	$(PY) bench/run.py --readme

soak: setup
	DG_SOAK_RUNS=$${DG_SOAK_RUNS:-200} $(PY) -m pytest tests/soak -v -s

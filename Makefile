# Dataset Gates - the two commands of the README.
#   make demo   set everything up and run a real ComfyUI with this pack on http://127.0.0.1:8188
#   make test   set everything up and run ALL tests (unit + integration + e2e)
PY := .venv/bin/python

.PHONY: setup test unit demo typecheck
setup:
	bash scripts/setup-comfyui

test: setup
	bash scripts/typecheck
	$(PY) -m pytest tests -v --durations=15

unit:
	$(PY) -m pytest tests/unit -q

typecheck:
	bash scripts/typecheck

demo: setup
	$(PY) scripts/demo.py

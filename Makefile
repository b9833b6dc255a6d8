# `make test` is the project's one test command (README.md); .ci/run calls it.
.PHONY: test lint pytest odoo-test bench run clean

test:
	bash scripts/test.sh

lint:
	bash scripts/test.sh lint

pytest:
	bash scripts/test.sh pytest

odoo-test:
	bash scripts/test.sh odoo

# The demo: Odoo 18 on http://localhost:8069 with the meter simulator (docs/RUN.md).
run:
	bash scripts/run.sh

bench:
	.venv/bin/python bench/engine.py
	.venv/bin/python bench/poll.py

clean:
	rm -rf .venv .tmp .pytest_cache .ruff_cache .hypothesis

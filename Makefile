# Two commands for a fresh machine: `make demo` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin

.PHONY: demo test lint typecheck bench clean frontend frontend-check api-types mutation

NPM ?= npm
# The report platform's front-end (frontend/, Vue + Vite) is built into the package's static
# folder; file targets rebuild it only when its sources or locked dependencies change.
FRONTEND_DEPS  = frontend/node_modules/.installed
FRONTEND_BUILD = src/yibaodai/web/static/app/index.html
FRONTEND_SRC  := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html \
                 frontend/vite.config.ts frontend/tsconfig.json frontend/package.json

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Re-install when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

$(FRONTEND_DEPS): frontend/package.json frontend/package-lock.json
	@bash scripts/check-node.sh
	cd frontend && $(NPM) ci --no-audit --no-fund
	touch $@

$(FRONTEND_BUILD): $(FRONTEND_DEPS) $(FRONTEND_SRC)
	@bash scripts/check-node.sh
	cd frontend && $(NPM) run build

frontend: $(FRONTEND_BUILD)

# ESLint, vue-tsc, Vitest, and the generated API types against the code's OpenAPI schema.
frontend-check: $(FRONTEND_DEPS) $(VENV)/.installed-test
	bash scripts/check-api-types.sh
	cd frontend && $(NPM) run lint && $(NPM) run typecheck && $(NPM) test

# Regenerate frontend/src/api/schema.d.ts after an API change (then commit it).
api-types: $(FRONTEND_DEPS) $(VENV)/.installed
	bash scripts/check-api-types.sh --write

demo: $(VENV)/.installed $(FRONTEND_BUILD)
	$(BIN)/yibaodai demo

test: $(VENV)/.installed-test $(FRONTEND_BUILD) frontend-check
	bash scripts/ensure-browser.sh
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -n 2

# Mutation testing of domain/ (slow, not part of `make test`): writes docs/mutation.md and ends
# with "mutation: K of N killed (P%)". MUTATION_ARGS e.g. --max-children 1 'yibaodai.domain.case*'
mutation: $(VENV)/.installed-test
	$(BIN)/python scripts/mutation.py $(MUTATION_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

clean:
	rm -rf var/yibaodai.db var/yibaodai.db-wal var/yibaodai.db-shm var/keys

.DEFAULT_GOAL := help
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

VENV := .venv
PY := $(VENV)/bin/python
EMULATOR_SCRIPT := scripts/emulator.sh
# Extra arguments for pytest, e.g. make test PYTEST_ARGS="-k dynamodb -x"
PYTEST_ARGS ?=

export EMULATOR PYTHON

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: venv
venv: ## Create .venv with Python 3.13 and the pinned dependencies
	@$(EMULATOR_SCRIPT) venv

.PHONY: up
up: ## Start the emulator (Docker if it answers, else host mode; EMULATOR=docker|host forces one)
	@$(EMULATOR_SCRIPT) up

.PHONY: down
down: ## Stop exactly what `make up` started
	@$(EMULATOR_SCRIPT) down

.PHONY: status
status: ## Is the emulator running, in which mode, which services
	@$(EMULATOR_SCRIPT) status

.PHONY: logs
logs: ## The emulator's log (last 200 lines)
	@$(EMULATOR_SCRIPT) logs

.PHONY: test
test: venv ## Run unit and e2e tests (starts the emulator for the session if it is not running)
	@$(PY) -m pytest $(PYTEST_ARGS)

.PHONY: unit
unit: venv ## Run the unit tests only (no emulator, no network)
	@$(PY) -m pytest tests/unit $(PYTEST_ARGS)

.PHONY: e2e
e2e: venv ## Run the e2e tests against the emulator
	@$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

.PHONY: lint
lint: venv ## ruff, shellcheck, and the compose file against the Compose specification
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/shellcheck .ci/run $$(find scripts init -name '*.sh')
	@$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

.PHONY: lock
lock: venv ## Re-resolve requirements/dev.in and rewrite requirements/constraints.txt
	@scripts/lock.sh

.PHONY: clean
clean: down ## Stop the emulator and remove .venv, .localstack and caches
	rm -rf $(VENV) .localstack .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

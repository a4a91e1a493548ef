.DEFAULT_GOAL := help
SHELL := bash

VENV := .venv
PY := $(VENV)/bin/python
EMULATOR_SCRIPT := scripts/emulator.sh
# Where make save / make load keep the pipeline's data.
DIR ?= saved-data
# Extra arguments for pytest, e.g. make test PYTEST_ARGS="-k dynamodb -x"
PYTEST_ARGS ?=
LAMBDA_SOURCES := lambda/requirements.txt $(shell find lambda -name '*.py' -not -path '*/__pycache__/*')
# The emulator's settings (version, port, region, stack name, services): emulator.env, defined once.
# The environment and make's command line win over the file (`make up LOCALSTACK_PORT=4599`).
EMULATOR_SETTINGS := $(shell sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' emulator.env)
$(foreach setting,$(EMULATOR_SETTINGS),$(eval $(setting) ?= $(shell sed -n 's/^$(setting)=//p' emulator.env)))
export $(EMULATOR_SETTINGS)
# Commands on this machine that talk to the emulator.
EMULATOR_AWS := AWS_ENDPOINT_URL=http://localhost:$(LOCALSTACK_PORT) AWS_ACCESS_KEY_ID=test \
	AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=$(AWS_DEFAULT_REGION)

# Template parameters a local deploy passes on (README: renditions and proofs).
export EMULATOR PYTHON RENDITIONS WATERMARK_TEXT WATERMARK_LOGO_KEY KEEP_LOCATION WORKFLOW

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: venv
venv: ## Create .venv with Python 3.13 and everything `make up` needs, so it then works offline
	@$(EMULATOR_SCRIPT) venv
	@$(PY) scripts/build_function.py --fetch

# The package a local deploy uses: this machine's architecture (`make build` makes both).
FUNCTION_ARCHITECTURE ?= $(if $(filter arm64 aarch64,$(shell uname -m)),arm64,x86_64)
export FUNCTION_ARCHITECTURE

.PHONY: build
build: build/.package-x86_64 build/.package-arm64 ## Build the function's zip for x86_64 and arm64 (Pillow for Lambda's platform)

build/.package-%: $(LAMBDA_SOURCES) scripts/build_function.py | venv
	@$(PY) scripts/build_function.py $*
	@touch $@

# HOT_RELOAD=1: the functions run lambda/ from disk, so an edit needs no deploy (host mode).
HOT_RELOAD ?=
export HOT_RELOAD
FUNCTION_CODE := $(if $(filter 1,$(HOT_RELOAD)),build/.hot-reload-$(FUNCTION_ARCHITECTURE),build/.package-$(FUNCTION_ARCHITECTURE))

build/.hot-reload-%: lambda/requirements.txt scripts/build_function.py | venv
	@$(PY) scripts/build_function.py --hot-reload $*
	@touch $@

.PHONY: up
up: venv $(FUNCTION_CODE) ## Start the emulator and provision the pipeline (Docker if it answers, else host mode)
	@$(EMULATOR_SCRIPT) up
	@$(EMULATOR_AWS) $(PY) scripts/deploy_stack.py outputs

.PHONY: deploy
deploy: venv $(FUNCTION_CODE) ## Push template and code changes into the running emulator (no restart)
	@$(EMULATOR_AWS) $(PY) scripts/deploy_stack.py deploy
	@$(EMULATOR_AWS) $(PY) scripts/deploy_stack.py outputs

.PHONY: down
down: ## Stop exactly what `make up` started
	@$(EMULATOR_SCRIPT) down

.PHONY: reset
reset: ## Throw the emulator's state away and provision afresh (make save first to keep data)
	@$(EMULATOR_SCRIPT) down
	@$(MAKE) --no-print-directory up

.PHONY: status
status: ## Is the emulator running, in which mode, which services
	@$(EMULATOR_SCRIPT) status || [ $$? -eq 3 ]  # 3: not running, which it says; not a failure of make

.PHONY: logs
logs: venv ## The function's CloudWatch logs (last 100 events)
	@$(EMULATOR_AWS) $(PY) -m scripts.function_logs

.PHONY: redrive
redrive: venv ## Process again the events parked in the dead-letter queue
	@$(EMULATOR_AWS) $(PY) -m scripts.redrive

.PHONY: save
save: venv ## Save uploads, thumbnails and rows to DIR (default saved-data/)
	@$(EMULATOR_AWS) $(PY) -m scripts.pipeline_data save $(DIR)

.PHONY: load
load: venv ## Load what `make save` wrote back into a running pipeline
	@$(EMULATOR_AWS) $(PY) -m scripts.pipeline_data load $(DIR)

.PHONY: emulator-logs
emulator-logs: ## The emulator's own log (last 200 lines)
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
lint: venv ## ruff, shellcheck, compose file against the Compose spec, cfn-lint on template.yaml
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/shellcheck .ci/run $$(find scripts init -name '*.sh')
	@$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	@$(VENV)/bin/cfn-lint template.yaml

.PHONY: lock
lock: venv ## Re-resolve requirements/dev.in and rewrite requirements/constraints.txt
	@scripts/lock.sh

.PHONY: clean
clean: down ## Stop the emulator and remove .venv, .localstack, build, test-artifacts and caches
	rm -rf $(VENV) .localstack build test-artifacts .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

.PHONY: bench
bench: venv ## Benchmarks: thumbnail vs its floor, upload->row latency, burst throughput (needs make up)
	@$(EMULATOR_AWS) $(PY) bench/benchmark.py

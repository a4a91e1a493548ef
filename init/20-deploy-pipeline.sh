#!/usr/bin/env bash
# LocalStack ready hook: provision the image pipeline by deploying template.yaml into this emulator.
# The same file runs in Docker (mounted at /etc/localstack/init/ready.d) and in host mode.
# Idempotent: a second run updates the stack, or finds it up to date.
set -euo pipefail

: "${PIPELINE_ROOT:?PIPELINE_ROOT must name the project directory (set by docker-compose.yml and make up)}"
# Always this emulator, whatever credentials the environment that started it had: host mode passes
# its address (LOCALSTACK_PORT); inside the container LocalStack listens on 4566.
export AWS_ENDPOINT_URL=${PIPELINE_ENDPOINT:-http://localhost:4566}
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:?set in emulator.env (make up and docker-compose.yml pass it)}
unset AWS_PROFILE AWS_SESSION_TOKEN

exec "${PIPELINE_PYTHON:-python3}" "$PIPELINE_ROOT/scripts/deploy_stack.py" deploy

#!/usr/bin/env bash
# Re-resolve requirements/dev.in in a throw-away virtualenv and write the result to
# requirements/constraints.txt. The known-good pins below keep pip away from releases that break
# LocalStack 4.14.0 (cbor2 6, cryptography 50, pyOpenSSL 26, localstack-twisted 26).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
.venv/bin/python -m venv "$scratch/venv"
printf '%s\n' cbor2==5.8.0 cryptography==46.0.5 pyOpenSSL==25.3.0 localstack-twisted==25.5.0 >"$scratch/known-good.txt"
"$scratch/venv/bin/pip" install --quiet --disable-pip-version-check -c "$scratch/known-good.txt" -r requirements/dev.in
{
  echo "# Generated from requirements/dev.in with Python 3.13 (pip freeze of a tested install)."
  echo "# Regenerate: make lock. Known-good pins that an unpinned install gets wrong: cbor2 5.x,"
  echo "# cryptography 46, pyOpenSSL 25, localstack-twisted 25."
  "$scratch/venv/bin/pip" freeze --exclude-editable
} >requirements/constraints.txt
echo "Wrote requirements/constraints.txt; run make test before committing it."

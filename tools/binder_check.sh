#!/usr/bin/env bash
# Build a fresh virtualenv from binder/ alone (what Binder installs) and run every
# lesson in it, top to bottom, with nbconvert. Fails on the first lesson that errors.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m venv "$work/venv"
export PATH="$work/venv/bin:$PATH"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -r binder/requirements.txt
bash binder/postBuild
python -m ipykernel install --prefix "$work/venv" --name python3 >/dev/null
for lesson in lessons/*.ipynb; do
  start=$(date +%s%N)
  jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=120 \
    --ExecutePreprocessor.kernel_name=python3 --output-dir "$work/out" "$lesson" >/dev/null 2>"$work/log" \
    || { cat "$work/log"; echo "binder environment: $lesson FAILED"; exit 1; }
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  printf 'binder environment: %-40s ok (%d ms)\n' "$lesson" "$ms"
done
echo "binder environment: every lesson ran"

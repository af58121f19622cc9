#!/usr/bin/env bash
# Create the virtual environment and install twostage with its dependencies.
# torch: the CPU build 2.13.0 is pre-installed (a bare `torch` requirement would pull a multi-GB CUDA
# build); users who bring their own torch can skip this by setting TWOSTAGE_TORCH=skip.
set -euo pipefail
venv=${1:-.venv}
py=${2:-python3}
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
if [ "${TWOSTAGE_TORCH:-}" != "skip" ] && ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  "$venv/bin/python" -m pip install -q "torch==2.13.0" 2>&1 | grep -v '^WARNING: Location' || true
fi
"$venv/bin/python" -m pip install -q -e ".[dev]" 2>&1 | grep -v '^WARNING: Location' || true
"$venv/bin/python" -c "import twostage.cli" 
touch "$venv/bin/twostage"

#!/usr/bin/env bash
# One prepared device check (issue 14, docs/performance.md "GPU"): on a machine with CUDA, in one go,
#   1. the CUDA-vs-CPU agreement tests (pytest -m cuda tests/numerics/test_device_cuda.py),
#   2. the hot-path bench (`twostage bench --size full --no-suite` rows) on the GPU,
#   3. `twostage run anchor-function --profile full --device cuda` (d_model 640, the paper's AdamW and
#      schedule), its training capped by wall time (TWOSTAGE_MAX_SECONDS), with its figures,
#   4. `twostage verify --profile full --device cuda` for chen-luo-2025 and gong-2025, timed (per-claim
#      verdicts are kept when a paper does not finish in its time),
#   5. the same bench rows on the host CPU (device/host ratios measured in the same run),
#   6. the fusion bench (python -m twostage.bench.fusion: torch.compile'd and fused full-model gradient and
#      the flow bucketed by step size, against the eager path, on the device; the dry run skips compiling),
# each under its own timeout so the whole run ends within BUDGET_S (default 530 s: under 9 minutes), then
# OUTDIR/summary.json and OUTDIR/summary.md (twostage/bench/device_summary.py).
#
#   scripts/device-check.sh OUTDIR              on a CUDA machine
#   DRY_RUN=1 scripts/device-check.sh OUTDIR    every step at tiny sizes on the CPU (tests/app/test_device_check.py)
#
# Overrides (seconds unless said): PYTHON, BUDGET_S, T_TESTS, T_BENCH, T_ANCHOR, ANCHOR_TRAIN_S, T_VERIFY_CHEN,
# T_VERIFY_GONG, T_HOST, T_FUSION, VERIFY_WORKERS (processes of the verify steps), FUSION_ARGS.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: [DRY_RUN=1] $0 OUTDIR" >&2
  exit 2
fi
mkdir -p "$1" || exit 2
OUT=$(cd "$1" && pwd)
cd "$(dirname "$0")/.." || exit 2
REPO=$(pwd)
DRY=${DRY_RUN:-0}

if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x .venv/bin/python ]; then PY=.venv/bin/python
else PY=python3
fi

case "$PY" in /*) ;; */*) PY=$REPO/$PY ;; esac
# Every step runs in OUTDIR, so that the checkout's own twostage/ folder (which lacks the theory, numerics
# and verify subpackages) is never the first `twostage` on sys.path. Where the package is not installed (a
# GPU image with its own torch), it is imported from this checkout through a folder of links that maps the
# import names as pyproject.toml's package-dir does; nothing is installed.
cd "$OUT" || exit 2
IMPORTS="import twostage.cli, twostage.theory.claims, twostage.numerics.device, twostage.verify.check"
if ! "$PY" -c "$IMPORTS" 2>/dev/null; then
  SHIM=$(mktemp -d)
  mkdir -p "$SHIM/twostage"
  for f in "$REPO"/twostage/*; do ln -s "$f" "$SHIM/twostage/"; done
  for d in theory numerics verify; do ln -s "$REPO/$d" "$SHIM/twostage/$d"; done
  export PYTHONPATH="$SHIM${PYTHONPATH:+:$PYTHONPATH}"
  "$PY" -c "$IMPORTS" || { echo "device-check: cannot import twostage with $PY" >&2; exit 2; }
fi
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg

if [ "$DRY" = 1 ]; then
  DEV=cpu; SIZE=tiny; PROFILE_RUN=ci; PROFILE_VERIFY=ci
  : "${BUDGET_S:=600}" "${T_TESTS:=150}" "${T_BENCH:=90}" "${T_ANCHOR:=150}" "${ANCHOR_TRAIN_S:=60}"
  : "${T_VERIFY_CHEN:=20}" "${T_VERIFY_GONG:=20}" "${T_HOST:=90}" "${VERIFY_WORKERS:=1}" "${T_FUSION:=60}"
  : "${FUSION_ARGS:=--problem tiny --no-compile}"
  export TWOSTAGE_MAX_STEPS=${TWOSTAGE_MAX_STEPS:-5}
else
  DEV=cuda; SIZE=full; PROFILE_RUN=full; PROFILE_VERIFY=full
  : "${BUDGET_S:=530}" "${T_TESTS:=85}" "${T_BENCH:=70}" "${T_ANCHOR:=170}" "${ANCHOR_TRAIN_S:=115}"
  : "${T_VERIFY_CHEN:=40}" "${T_VERIFY_GONG:=25}" "${T_HOST:=70}" "${VERIFY_WORKERS:=4}" "${T_FUSION:=60}"
  : "${FUSION_ARGS:=--problem full}"
  if ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "device-check: no CUDA device here (run DRY_RUN=1 $0 $1 for the CPU dry run)" >&2
    exit 2
  fi
fi

DEADLINE=$(( $(date +%s) + BUDGET_S - 10 ))   # 10 s kept for the summary
step() {  # step NAME TIMEOUT CMD...
  local name=$1 limit=$2
  shift 2
  "$PY" -m twostage.bench.device_check step "$OUT" "$name" "$limit" --deadline "$DEADLINE" -- "$@"
}

echo "[device-check] $( [ "$DRY" = 1 ] && echo "DRY RUN (CPU, tiny sizes)" || echo "CUDA" ) -> $OUT"
"$PY" -m twostage.bench.device_check env "$OUT" $( [ "$DRY" = 1 ] && echo --dry-run )

step agreement "$T_TESTS" env TWOSTAGE_TEST_DEVICE="$DEV" "$PY" -m pytest -q -p no:cacheprovider -m cuda \
  "$REPO/tests/numerics/test_device_cuda.py" --junitxml "$OUT/agreement.xml"
step bench-device "$T_BENCH" "$PY" -m twostage.bench.device_check bench "$OUT/bench-device.json" \
  --device "$DEV" --size "$SIZE"
step anchor "$T_ANCHOR" env TWOSTAGE_MAX_SECONDS="$ANCHOR_TRAIN_S" "$PY" -m twostage --results "$OUT/results" \
  run anchor-function --profile "$PROFILE_RUN" --device "$DEV"
step verify-chen-luo-2025 "$T_VERIFY_CHEN" "$PY" -m twostage --results "$OUT/results" verify \
  --paper chen-luo-2025 --profile "$PROFILE_VERIFY" --device "$DEV" --workers "$VERIFY_WORKERS" \
  --json "$OUT/verify-chen-luo-2025.json"
step verify-gong-2025 "$T_VERIFY_GONG" "$PY" -m twostage --results "$OUT/results" verify \
  --paper gong-2025 --profile "$PROFILE_VERIFY" --device "$DEV" --workers "$VERIFY_WORKERS" \
  --json "$OUT/verify-gong-2025.json"
step bench-host "$T_HOST" "$PY" -m twostage.bench.device_check bench "$OUT/bench-host.json" \
  --device cpu --size "$SIZE"
# shellcheck disable=SC2086  # FUSION_ARGS is a list of options
step fusion "$T_FUSION" "$PY" -m twostage.bench.fusion --device "$DEV" $FUSION_ARGS --json "$OUT/fusion.json"

"$PY" -m twostage.bench.device_check summary "$OUT"

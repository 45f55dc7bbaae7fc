#!/usr/bin/env bash
# GPU benchmark (issue 16): `compare` on aurig-paper and one training configuration on the GPU,
# then the same commands on this machine's CPU on a smaller count, printing images/s and steps/s
# side by side. Sized to finish within 8 minutes on one GPU (each step has its own time limit;
# a step that runs out says so and the others still report).
#
#   bench/gpu.sh                      # cuda, full sizes: 2000 pairs, 300 training steps (CPU: 100 pairs, 4 steps)
#   bench/gpu.sh --device cpu --short # the CPU half only, tiny sizes: what tests/bench/test_bench_gpu.py runs
#
# Options: --device cuda|cpu, --short, --out DIR (default: a temporary folder), --editor NAME and
# --recipe NAME (the training configuration, default ganimation with GANimation's published recipe,
# ganimation-paper). PYTHON picks the interpreter (default .venv/bin/python, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."

device=cuda short=0 out="" editor=ganimation recipe=ganimation-paper
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --short) short=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --editor) editor="$2"; shift 2 ;;
    --recipe) recipe="$2"; shift 2 ;;
    *) echo "bench/gpu.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
PY="${PYTHON:-}"
if [ -z "$PY" ]; then if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi; fi
out="${out:-$(mktemp -d)}"
mkdir -p "$out"
export HF_HUB_OFFLINE=1 FACEEDIT_BENCH_CACHE_FEATURES="$out/feature-cache"

# sizes: pairs and editors of compare, steps of training, time limits (s); the CPU side runs less
editors=(identity oracle two-stage warp-only ganimation)
gpu_pairs=2000 cpu_pairs=100 gpu_steps=300 cpu_steps=4 train_args=()
compare_limit=240 train_limit=120 cpu_compare_limit=90 cpu_train_limit=90
if [ "$short" = 1 ]; then
  editors=(identity two-stage)
  gpu_pairs=8 cpu_pairs=4 gpu_steps=4 cpu_steps=4 recipe=cpu-64 train_args=(--batch-size 4)
  compare_limit=300 train_limit=300 cpu_compare_limit=300 cpu_train_limit=300
fi

FB=("$PY" -m faceedit_bench.cli.main)  # an array, not a function: `timeout` runs it

# run_limited SECONDS LOG CMD...: the command's output to LOG; says so (on stderr) and returns 1 if it
# failed or ran out of time
run_limited() {
  local limit="$1" log="$2"; shift 2
  if timeout "$limit" "$@" >"$log" 2>&1; then return 0; fi
  { echo "  (did not finish within ${limit} s or failed; last lines of $log:)"; tail -n 5 "$log" | sed 's/^/    /'; } >&2
  return 1
}

# compare_rate DEVICE PAIRS LIMIT: prints "images/s pairs editors seconds" from the run's results.json
compare_rate() {
  local dev="$1" pairs="$2" limit="$3" dir="$out/compare-$1"
  rm -rf "$dir"
  run_limited "$limit" "$dir.log" "${FB[@]}" compare --protocol aurig-paper --n-pairs "$pairs" --device "$dev" \
    --editors "${editors[@]}" --out "$dir" --no-figures --no-html --no-progress || return 1
  "$PY" - "$dir/results.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
ok = [e for e, v in r["editors"].items() if v.get("status") == "ok"]
n, wall = r["protocol"]["n_pairs_evaluated"], r["config"]["wall_s"]
print(f"{n * len(ok) / wall:.2f} {n} {len(ok)} {wall:.1f}")
EOF
}

# train_rate DEVICE STEPS LIMIT: prints "steps/s batch" from the timed records of metrics.jsonl
# (the second half of the steps, so start-up and warm-up are not counted)
train_rate() {
  local dev="$1" steps="$2" limit="$3" dir="$out/train-$1" log_every=1
  [ "$steps" -ge 100 ] && log_every=10
  rm -rf "$dir"
  run_limited "$limit" "$dir.log" "${FB[@]}" train --editor "$editor" --recipe "$recipe" --steps "$steps" \
    --device "$dev" --out "$dir" --log-every "$log_every" --val-every 0 --val-size 4 \
    --ckpt-every 100000 --logger none --no-progress "${train_args[@]}" || return 1
  "$PY" - "$dir/metrics.jsonl" "$dir/config.json" <<'EOF'
import json, sys
rows = [r for r in map(json.loads, open(sys.argv[1])) if r.get("kind") == "train"]
first, last = rows[max(len(rows) // 2 - 1, 0)], rows[-1]
rate = (last["step"] - first["step"]) / max(last["time_s"] - first["time_s"], 1e-9)
batch = json.load(open(sys.argv[2])).get("batch_size", "?")
print(f"{rate:.3f} {batch}")
EOF
}

start=$(date +%s)
echo "bench/gpu.sh: device $device, out $out, $("$PY" -c 'import torch; print("torch", torch.__version__, "cuda" if torch.cuda.is_available() else "no cuda")')"
sides=(cpu)
[ "$device" = cpu ] || sides=("$device" cpu)
declare -A img trn
for dev in "${sides[@]}"; do
  if [ "$dev" = cpu ]; then pairs=$cpu_pairs steps=$cpu_steps cl=$cpu_compare_limit tl=$cpu_train_limit
  else pairs=$gpu_pairs steps=$gpu_steps cl=$compare_limit tl=$train_limit; fi
  echo "== $dev: compare aurig-paper, $pairs pairs x ${#editors[@]} editors"
  img[$dev]=$(compare_rate "$dev" "$pairs" "$cl") || img[$dev]=""
  echo "== $dev: train $editor ($recipe), $steps steps"
  trn[$dev]=$(train_rate "$dev" "$steps" "$tl") || trn[$dev]=""
done

echo
echo "results ($(( $(date +%s) - start )) s in all; images/s = pairs x editors edited and judged per second of compare's pass)"
for dev in "${sides[@]}"; do
  read -r rate n k wall <<<"${img[$dev]:-- - - -}"
  read -r steps batch <<<"${trn[$dev]:-- -}"
  printf '  %-6s compare aurig-paper: %8s images/s (%s pairs x %s editors in %s s)   train %s (%s): %8s steps/s (batch %s)\n' \
    "$dev" "$rate" "$n" "$k" "$wall" "$editor" "$recipe" "$steps" "$batch"
done
if [ "$device" != cpu ] && [ -n "${img[$device]}" ] && [ -n "${img[cpu]}" ] && [ -n "${trn[$device]}" ] && [ -n "${trn[cpu]}" ]; then
  "$PY" -c "import sys; a, b, c, d = map(float, sys.argv[2:]); print(f'  {sys.argv[1]}: compare {a / b:.1f}x, training {c / d:.1f}x the CPU')" \
    "$device" "${img[$device]%% *}" "${img[cpu]%% *}" "${trn[$device]%% *}" "${trn[cpu]%% *}"
fi
for dev in "${sides[@]}"; do
  if [ -z "${img[$dev]}" ] || [ -z "${trn[$dev]}" ]; then echo "bench/gpu.sh: a step did not finish (see above)"; exit 1; fi
done

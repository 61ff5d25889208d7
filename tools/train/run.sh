#!/usr/bin/env bash
# Prepare the data, train glm5-mini (three phases), then the dense baseline. Each step
# skips or resumes what an earlier run finished, so rerunning this command continues.
#   nice -n 19 nohup tools/train/run.sh > tools/train/runs/run.log 2>&1 &
# SIGTERM or SIGINT to this script reaches the running trainer, which saves a checkpoint
# and exits with status 3; the script then stops too.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1
# One torch thread: on a 2-core machine shared with other builds, 2 threads measured
# ~350 tokens/s against ~1,700 with 1 (batch 8 x 256, dense phase), because each OpenMP
# barrier waits for the thread that lost its core. Set TRAIN_THREADS=2 on an idle machine.
threads="${TRAIN_THREADS:-1}"

child=
forward_signal() { [[ -n "$child" ]] && kill -TERM "$child" 2>/dev/null || true; }
trap forward_signal TERM INT

run_step() {
  "$python" "$@" &
  child=$!
  local status=0
  wait "$child" || status=$?
  # wait returns early (status > 128) when a trapped signal arrives: wait for the checkpoint
  while ((status > 128)) && kill -0 "$child" 2>/dev/null; do
    status=0
    wait "$child" || status=$?
  done
  child=
  return "$status"
}

cd "$here"
mkdir -p runs
if [[ ! -f runs/data/train.bin || ! -f runs/data/tokenizer.json ]]; then
  run_step prepare_data.py --out runs/data
fi
if [[ ! -f runs/glm5-mini/final.pt ]]; then
  run_step train.py --threads "$threads" --config configs/glm5-mini.json --run runs/glm5-mini
fi
if [[ ! -f runs/dense-baseline/final.pt ]]; then
  run_step train.py --threads "$threads" --config configs/dense-baseline.json --run runs/dense-baseline
fi
echo "training finished: runs/glm5-mini/final.pt and runs/dense-baseline/final.pt"

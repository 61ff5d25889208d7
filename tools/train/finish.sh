#!/usr/bin/env bash
# Export the trained model, evaluate it, write reference.json and the model card.
# Run after run.sh has finished both training runs.
#   nice -n 19 tools/train/finish.sh [models/glm5-mini-gutenberg]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repository="$(cd "$here/../.." && pwd)"
model="${1:-$repository/models/glm5-mini-gutenberg}"
python=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1

for run in glm5-mini dense-baseline; do
  if [[ ! -f "$here/runs/$run/final.pt" ]]; then
    echo "runs/$run/final.pt is missing: finish training with tools/train/run.sh first" >&2
    exit 1
  fi
done

cd "$here"
"$python" export.py --run runs/glm5-mini --tokenizer runs/data/tokenizer.json --out "$model"
"$python" evaluate.py --model "$model" --baseline runs/dense-baseline --data runs/data --out runs/eval.json
"$python" fixtures.py --model "$model"
"$python" model_card.py --model "$model" --run runs/glm5-mini --baseline runs/dense-baseline \
  --data runs/data --metrics runs/eval.json
du -sh "$model"

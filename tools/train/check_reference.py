"""Check glm_model.py against outputs that Hugging Face transformers computed.

Loads a tiny random-weight GlmMoeDsa checkpoint (config.json, F32 model.safetensors) and its
expected.json, then compares the last-position logits of every case (tolerance 1e-4) and the
16 greedy tokens (exactly; each step re-runs the whole sequence without a cache).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/train/check_reference.py \
        /work/shared/data/reference/hf-tiny/glm_moe_dsa_tiny_b
"""

import json
import os
import sys

import torch

from glm_model import ATTENTION_SPARSE, GlmMoeDsaForCausalLM, from_hf_state_dict
from safetensors_io import read_safetensors

LOGIT_TOLERANCE = 1e-4


def load_reference_model(folder):
    with open(os.path.join(folder, "config.json")) as file:
        config = json.load(file)
    model = GlmMoeDsaForCausalLM(config)
    from_hf_state_dict(model, read_safetensors(os.path.join(folder, "model.safetensors")))
    return model.eval()


def greedy_tokens(model, prompt, steps):
    sequence = list(prompt)
    produced = []
    for _ in range(steps):
        logits, _ = model(torch.tensor([sequence]), mode=ATTENTION_SPARSE)
        token = int(logits[0, -1].argmax())
        produced.append(token)
        sequence.append(token)
    return produced


def check(folder):
    model = load_reference_model(folder)
    with open(os.path.join(folder, "expected.json")) as file:
        expected = json.load(file)

    failures = 0
    with torch.no_grad():
        for case in expected["cases"]:
            logits, extras = model(torch.tensor([case["prompt_ids"]]), mode=ATTENTION_SPARSE)
            want = torch.tensor(case["last_logits"], dtype=torch.float32)
            max_error = (logits[0, -1] - want).abs().max().item()
            tokens = greedy_tokens(model, case["prompt_ids"], len(case["greedy_tokens"]))
            logits_ok = max_error <= LOGIT_TOLERANCE
            tokens_ok = tokens == case["greedy_tokens"]
            failures += (not logits_ok) + (not tokens_ok)
            print(f"prompt length {case['prompt_len']:3d}: max |logit error| {max_error:.2e} "
                  f"({'ok' if logits_ok else 'FAIL'}), greedy tokens {'ok' if tokens_ok else 'FAIL'}")
            if not tokens_ok:
                print(f"  expected {case['greedy_tokens']}\n  got      {tokens}")

        debug = expected.get("debug_last_position_of_case_2")
        if debug:
            _, extras = model(torch.tensor([expected["cases"][2]["prompt_ids"]]), mode=ATTENTION_SPARSE)
            for entry in debug:
                topk = sorted(extras["topk"][entry["layer"]][0, -1].tolist())
                same = topk == entry["topk_indices_last_pos"]
                failures += not same
                print(f"layer {entry['layer']}: top-k of last position {'ok' if same else 'FAIL'} {topk}")

    print("all checks passed" if failures == 0 else f"{failures} checks failed")
    return failures


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(1 if check(sys.argv[1]) else 0)

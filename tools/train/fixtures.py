"""Write reference outputs of an exported model for the Java engine (reference.json).

The PyTorch model loads the exported BF16 weights and computes in float32, with sparse
top-k attention and index sharing. For each fixed prompt it records the logits of the last
prompt position and 64 greedy tokens. Each greedy step re-runs the whole growing sequence
without a cache, and generation does not stop at EOS. The longest case also records, for its last prompt
position, each layer's selected key positions and routed experts. The model card
documents the format.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/train/fixtures.py --model models/glm5-mini-gutenberg
"""

import argparse
import hashlib
import json
import os

import torch

from bpe import ByteLevelBpe
from export import load_exported
from glm_model import ATTENTION_SPARSE, MixtureOfExperts

GREEDY_STEPS = 64
PROMPTS = [
    "It is a truth universally acknowledged, that",
    "ROMEO:\n",
    "The whale",
    # Moby-Dick, chapter 1 (public domain, shortened); long enough that the prompt itself uses top-k.
    "Call me Ishmael. Some years ago--never mind how long precisely--having little or no money in my purse, "
    "and nothing particular to interest me on shore, I thought I would sail about a little and see the watery "
    "part of the world. It is a way I have of driving off the spleen and regulating the circulation. Whenever I "
    "find myself growing grim about the mouth; whenever it is a damp, drizzly November in my soul; whenever I "
    "find myself involuntarily pausing before coffin warehouses, and bringing up the rear of every funeral I "
    "meet, then I account it high time to get to sea as soon as I can.",
]


def top2_margin(logits):
    top = logits.topk(2).values
    return float(top[0] - top[1])


def greedy(model, prompt_ids, steps):
    sequence = list(prompt_ids)
    tokens, margins = [], []
    with torch.no_grad():
        for _ in range(steps):
            logits, _ = model(torch.tensor([sequence]), mode=ATTENTION_SPARSE)
            last = logits[0, -1]
            token = int(last.argmax())
            tokens.append(token)
            margins.append(top2_margin(last))
            sequence.append(token)
    return tokens, margins


def last_position_debug(model, prompt_ids):
    """Return per layer the selected keys, the routed experts and weights at the last position."""
    captured = {}
    hooks = [module.register_forward_hook(lambda m, inputs, output, name=name: captured.__setitem__(name, inputs[0]))
             for name, module in model.named_modules() if isinstance(module, MixtureOfExperts)]
    with torch.no_grad():
        _, extras = model(torch.tensor([prompt_ids]), mode=ATTENTION_SPARSE, want_index_scores=True)
    for hook in hooks:
        hook.remove()

    topk = model.config["index_topk"]
    layers = []
    for index, layer in enumerate(model.model.layers):
        entry = {"layer": index, "indexer_types": model.config["indexer_types"][index],
                 "topk_indices_last_pos": sorted(extras["topk"][index][0, -1].tolist())}
        scores = extras["index_scores"][index]
        if model.config["indexer_types"][index] == "full" and len(prompt_ids) > topk:
            ranked = scores[0, -1].sort(descending=True).values
            entry["indexer_kth_gap"] = float(ranked[topk - 1] - ranked[topk])
        if layer.is_moe:
            hidden = captured[f"model.layers.{index}.mlp"].reshape(-1, model.config["hidden_size"])[-1:]
            experts, weights = layer.mlp.route(hidden)
            order = weights[0].argsort(descending=True)
            entry["experts_last_pos"] = experts[0, order].tolist()
            entry["expert_weights_last_pos"] = weights[0, order].tolist()
        layers.append(entry)
    return layers


def indexer_boundary_gaps(model, sequence):
    """Return (min gap, ties) between the k-th and (k+1)-th index score over all positions >= k.

    Each position of the full greedy sequence picks its keys exactly as the step that first
    computed it did (attention is causal), so this covers every selection in the case. A tie
    (gap 0, for example from scores that ReLU clamps to exactly 0) leaves the selection to the
    top-k implementation's tie-breaking.
    """
    topk = model.config["index_topk"]
    if len(sequence) <= topk:
        return None, 0
    with torch.no_grad():
        _, extras = model(torch.tensor([sequence]), mode=ATTENTION_SPARSE, want_index_scores=True)
    causal = torch.ones(len(sequence), len(sequence), dtype=torch.bool).tril()
    gaps = []
    for layer, kind in enumerate(model.config["indexer_types"]):
        if kind != "full":
            continue
        scores = extras["index_scores"][layer][0].masked_fill(~causal, float("-inf"))[topk:]
        ranked = scores.topk(topk + 1, dim=-1).values
        gaps.append(ranked[:, topk - 1] - ranked[:, topk])
    gaps = torch.cat(gaps)
    return float(gaps.min()), int((gaps == 0).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="exported model folder; reference.json is written there")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model = load_exported(args.model)
    tokenizer = ByteLevelBpe.load(os.path.join(args.model, "tokenizer.json"))
    with open(os.path.join(args.model, "model.safetensors"), "rb") as file:
        weights_sha256 = hashlib.sha256(file.read()).hexdigest()

    cases = []
    for prompt in PROMPTS:
        ids = tokenizer.encode(prompt)
        if len(ids) + GREEDY_STEPS > model.config["max_position_embeddings"]:
            raise ValueError(f"prompt of {len(ids)} tokens plus {GREEDY_STEPS} greedy tokens exceeds "
                             f"max_position_embeddings {model.config['max_position_embeddings']}")
        with torch.no_grad():
            logits, _ = model(torch.tensor([ids]), mode=ATTENTION_SPARSE)
        last = logits[0, -1]
        tokens, margins = greedy(model, ids, GREEDY_STEPS)
        min_gap, ties = indexer_boundary_gaps(model, ids + tokens)
        cases.append({"prompt": prompt, "prompt_ids": ids, "prompt_len": len(ids),
                      "last_logits": [float(x) for x in last.tolist()],
                      "last_argmax": int(last.argmax()), "last_top2_margin": top2_margin(last),
                      "greedy_tokens": tokens, "greedy_text": tokenizer.decode(tokens),
                      "greedy_step_top2_margins": margins,
                      "min_indexer_kth_gap": min_gap, "indexer_kth_ties": ties})
        print(f"prompt of {len(ids)} tokens -> {tokenizer.decode(tokens)!r}", flush=True)

    longest = max(range(len(cases)), key=lambda i: cases[i]["prompt_len"])
    reference = {
        "format": "sparsemesh-reference/1",
        "model": os.path.basename(os.path.normpath(args.model)),
        "weights": {"file": "model.safetensors", "sha256": weights_sha256},
        "compute_dtype": "float32",
        "attention": "sparse top-k with index sharing (indexer_types)",
        "greedy_method": f"argmax of the last position, {GREEDY_STEPS} steps, whole sequence re-run without "
                         "a cache at every step, no EOS stop",
        "cases": cases,
        "debug_case": longest,
        "debug_last_position": last_position_debug(model, cases[longest]["prompt_ids"]),
        "min_greedy_top2_margin": min(min(c["greedy_step_top2_margins"]) for c in cases),
    }
    path = os.path.join(args.model, "reference.json")
    with open(path, "w") as file:
        json.dump(reference, file, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

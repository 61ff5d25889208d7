"""Evaluate an exported model on the validation split and write metrics to JSON.

Measures, on non-overlapping 256-token validation windows (each window's first token has no
context, as in training):
  - perplexity of the exported model (BF16 weights, float32 compute) with sparse top-k
    attention and index sharing, with every layer running its own indexer, and with dense
    attention;
  - perplexity of the dense baseline run (weights rounded to BF16 the same way) and of an
    interpolated Kneser-Ney trigram model trained on the training split;
  - routed-expert load per MoE layer;
  - indexer recall: for query positions >= index_topk, the share of the dense attention's
    top-k keys (mean over heads) that the layer's selection contains, and the share of the
    dense attention mass inside the selection.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/train/evaluate.py --model models/glm5-mini-gutenberg \
        --baseline tools/train/runs/dense-baseline --data tools/train/runs/data --out tools/train/runs/eval.json
"""

import argparse
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from export import load_exported
from glm_model import ATTENTION_DENSE, ATTENTION_SPARSE, GlmMoeDsaForCausalLM
from kn_trigram import KneserNeyTrigram
from train import indexer_groups

BATCH = 8


def all_windows(path, seq_len):
    tokens = np.fromfile(path, dtype="<u2").astype(np.int64)
    count = (len(tokens) - 1) // seq_len
    return torch.from_numpy(np.stack([tokens[i * seq_len:i * seq_len + seq_len + 1] for i in range(count)]))


def model_perplexity(model, windows, **forward_options):
    total, count = 0.0, 0
    with torch.no_grad():
        for begin in range(0, len(windows), BATCH):
            batch = windows[begin:begin + BATCH]
            logits, _ = model(batch[:, :-1], **forward_options)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1),
                                     reduction="sum").item()
            count += batch[:, 1:].numel()
    return math.exp(total / count)


def trigram_perplexity(kn, windows):
    """Score the same targets as the models: target j of a window is conditioned on window tokens < j only."""
    rows = windows.numpy()
    targets = rows[:, 1:]
    previous = rows[:, :-1]
    before_previous = np.concatenate([np.full((len(rows), 1), -1), rows[:, :-2]], axis=1)
    probability = kn.probability(before_previous.reshape(-1), previous.reshape(-1), targets.reshape(-1))
    return float(np.exp(-np.log(probability).mean()))


def expert_load(model, windows):
    loads = None
    with torch.no_grad():
        for begin in range(0, len(windows), BATCH):
            _, extras = model(windows[begin:begin + BATCH, :-1], mode=ATTENTION_SPARSE)
            if loads is None:
                loads = [None if load is None else torch.zeros(load.shape, dtype=torch.float64)
                         for load in extras["load"]]
            for total, load in zip(loads, extras["load"]):
                if load is not None:
                    total += load.double()
    result = {}
    for layer, load in enumerate(loads):
        if load is None:
            continue
        share = (load / load.sum()).tolist()
        result[str(layer)] = {"share": share, "max_over_mean": max(share) * len(share),
                              "min_over_mean": min(share) * len(share)}
    return result


def indexer_recall(model, windows, max_windows=64):
    """Compare each layer's top-k selection with its dense attention, in a dense forward pass."""
    config = model.config
    topk = config["index_topk"]
    full_of = {layer: full for full, members in indexer_groups(config).items() for layer in members}
    sums = {}
    with torch.no_grad():
        for begin in range(0, min(len(windows), max_windows), BATCH):
            inputs = windows[begin:begin + BATCH, :-1]
            seq_len = inputs.shape[1]
            causal = torch.ones(seq_len, seq_len, dtype=torch.bool).tril()
            _, extras = model(inputs, mode=ATTENTION_DENSE, want_index_scores=True, want_attention=True)
            for layer, attention in enumerate(extras["attention"]):
                attention = attention[:, topk:]  # earlier queries see at most topk keys anyway
                attention_top = attention.topk(topk, dim=-1).indices
                for variant, source in (("shared", full_of[layer]), ("own", layer)):
                    scores = extras["index_scores"][source][:, topk:].masked_fill(~causal[topk:], float("-inf"))
                    selected = torch.zeros_like(attention, dtype=torch.bool).scatter_(-1, scores.topk(topk, dim=-1).indices, True)
                    hits = selected.gather(-1, attention_top).float().mean().item()
                    mass = (attention * selected).sum(dim=-1).mean().item()
                    entry = sums.setdefault((layer, variant), [0.0, 0.0, 0])
                    entry[0] += hits
                    entry[1] += mass
                    entry[2] += 1
    result = {}
    for (layer, variant), (hits, mass, batches) in sorted(sums.items()):
        result.setdefault(str(layer), {"indexer_types": config["indexer_types"][layer]})[variant] = {
            "topk_recall": hits / batches, "attention_mass": mass / batches}
    return result


def load_baseline(run):
    with open(os.path.join(run, "config.json")) as file:
        config = json.load(file)["model"]
    model = GlmMoeDsaForCausalLM(config)
    state = torch.load(os.path.join(run, "final.pt"))
    # Round like the exported model so that both compare at the same weight precision.
    model.load_state_dict({k: v.to(torch.bfloat16).float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="exported model folder")
    parser.add_argument("--baseline", required=True, help="dense baseline run folder with config.json and final.pt")
    parser.add_argument("--data", required=True, help="folder with train.bin and val.bin")
    parser.add_argument("--out", required=True, help="output JSON file")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model = load_exported(args.model)
    seq_len = model.config["max_position_embeddings"]
    windows = all_windows(os.path.join(args.data, "val.bin"), seq_len)
    train_tokens = np.fromfile(os.path.join(args.data, "train.bin"), dtype="<u2").astype(np.int64)
    kn = KneserNeyTrigram(train_tokens, model.config["vocab_size"])

    metrics = {"validation_windows": len(windows), "window_tokens": seq_len,
               "predicted_tokens": int(windows[:, 1:].numel())}
    metrics["perplexity"] = {
        "sparse_shared_indexers": model_perplexity(model, windows, mode=ATTENTION_SPARSE),
        "sparse_every_layer_full": model_perplexity(model, windows, mode=ATTENTION_SPARSE, share_indices=False),
        "dense_attention": model_perplexity(model, windows, mode=ATTENTION_DENSE),
        "dense_baseline": model_perplexity(load_baseline(args.baseline), windows, mode=ATTENTION_DENSE),
        "kneser_ney_trigram": trigram_perplexity(kn, windows),
    }
    print(json.dumps(metrics["perplexity"], indent=1), flush=True)
    metrics["expert_load"] = expert_load(model, windows)
    metrics["indexer_recall"] = indexer_recall(model, windows)
    with open(args.out, "w") as file:
        json.dump(metrics, file, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

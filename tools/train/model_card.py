"""Write the model card (README.md) of an exported model from the run logs and metrics.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/train/model_card.py --model models/glm5-mini-gutenberg \
        --run tools/train/runs/glm5-mini --baseline tools/train/runs/dense-baseline \
        --data tools/train/runs/data --metrics tools/train/runs/eval.json
"""

import argparse
import csv
import json
import os
import shutil

import numpy as np
import torch

from bpe import ByteLevelBpe
from export import load_exported
from glm_model import ATTENTION_SPARSE

SAMPLE_PROMPTS = ["It was a dark and stormy night", "KING HENRY:\n", "The sea"]
SAMPLE_TOKENS = 80
SAMPLE_TEMPERATURE = 0.8
SAMPLE_TOP_K = 40
SAMPLE_SEED = 7
SMOOTHING_STEPS = 50


def read_log(run):
    with open(os.path.join(run, "log.csv"), newline="") as file:
        return list(csv.DictReader(file))


def last_value(rows, field, phase=None):
    for row in reversed(rows):
        if row[field] and (phase is None or row["phase"] == phase):
            return float(row[field]), int(row["step"])
    return None, None


def value_at_step(rows, field, step):
    for row in rows:
        if int(row["step"]) == step and row[field]:
            return float(row[field])
    return None


def sample(model, tokenizer, prompt):
    generator = torch.Generator().manual_seed(SAMPLE_SEED)
    ids = tokenizer.encode(prompt)
    with torch.no_grad():
        for _ in range(SAMPLE_TOKENS):
            logits, _ = model(torch.tensor([ids[-model.config["max_position_embeddings"]:]]), mode=ATTENTION_SPARSE)
            top = (logits[0, -1] / SAMPLE_TEMPERATURE).topk(SAMPLE_TOP_K)
            choice = torch.multinomial(torch.softmax(top.values, dim=-1), 1, generator=generator)
            ids.append(int(top.indices[choice]))
    return tokenizer.decode(ids)


def parameter_counts(model):
    config = model.config
    total = sum(p.numel() for p in model.parameters())
    shared_indexers = sum(p.numel() for layer, kind in zip(model.model.layers, config["indexer_types"])
                          if kind == "shared" for p in layer.self_attn.indexer.parameters())
    inactive = 0
    for layer in model.model.layers:
        if layer.is_moe:
            per_expert = (layer.mlp.expert_gate_proj[0].numel() + layer.mlp.expert_up_proj[0].numel()
                          + layer.mlp.expert_down_proj[0].numel())
            inactive += per_expert * (config["n_routed_experts"] - config["num_experts_per_tok"])
    embedding = model.model.embed_tokens.weight.numel()
    return total, total - inactive - shared_indexers - embedding


def plot_curves(log, baseline_log, path):
    """Plot training and validation loss of the model and the dense baseline into a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    for phase, color in (("dense", "tab:blue"), ("sparse", "tab:green")):
        points = [(int(r["step"]), float(r["lm_loss"])) for r in log if r["phase"] == phase and r["lm_loss"]]
        if points:
            steps, losses = zip(*points)
            axis.plot(steps, losses, color=color, alpha=0.2, linewidth=0.5)
            window = min(SMOOTHING_STEPS, len(losses))
            smoothed = np.convolve(losses, np.ones(window) / window, mode="valid")
            axis.plot(steps[window - 1:], smoothed, color=color, linewidth=1.2,
                      label=f"train loss, {phase} attention ({window}-step mean)")
    for rows, color, label in ((log, "black", "validation loss"), (baseline_log, "tab:orange", "dense baseline validation loss")):
        points = [(int(r["step"]), float(r["val_loss"])) for r in rows if r["val_loss"]]
        axis.plot(*zip(*points), "o-", color=color, markersize=3, label=label)
    points = [(int(r["step"]), float(r["kl_loss"])) for r in log if r["kl_loss"]]
    if points:
        axis.plot(*zip(*points), color="tab:red", alpha=0.6, linewidth=0.6, label="indexer KL loss")
    axis.set_xlabel("step")
    axis.set_ylabel("nats per token")
    axis.set_ylim(0, 8)
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="exported model folder (README.md is written there)")
    parser.add_argument("--run", required=True, help="training run folder of the model")
    parser.add_argument("--baseline", required=True, help="training run folder of the dense baseline")
    parser.add_argument("--data", required=True, help="data folder with summary.json")
    parser.add_argument("--metrics", required=True, help="JSON written by evaluate.py")
    args = parser.parse_args()
    torch.set_num_threads(1)

    model = load_exported(args.model)
    config = model.config
    tokenizer = ByteLevelBpe.load(os.path.join(args.model, "tokenizer.json"))
    with open(args.metrics) as file:
        metrics = json.load(file)
    with open(os.path.join(args.data, "summary.json")) as file:
        data = json.load(file)
    with open(os.path.join(args.run, "config.json")) as file:
        recipe = json.load(file)["recipe"]
    with open(os.path.join(args.baseline, "config.json")) as file:
        baseline_recipe = json.load(file)["recipe"]
    log = read_log(args.run)
    baseline_log = read_log(args.baseline)
    name = os.path.basename(os.path.normpath(args.model))
    total, active = parameter_counts(model)
    tokens_per_step = recipe["batch_size"] * recipe["seq_len"]
    lm_steps = recipe["dense_steps"] + recipe["sparse_steps"]
    minutes = float(log[-1]["elapsed_seconds"]) / 60
    baseline_minutes = float(baseline_log[-1]["elapsed_seconds"]) / 60
    final_val, _ = last_value(log, "val_loss")
    dense_val, dense_step = last_value(log, "val_loss", "dense")
    baseline_val, baseline_step = last_value(baseline_log, "val_loss")
    matched_val = value_at_step(log, "val_loss", baseline_step)
    final_kl, _ = last_value(log, "kl_loss", "sparse")
    warmup_kl_start = next(float(r["kl_loss"]) for r in log if r["phase"] == "indexer_warmup")
    warmup_kl_end, _ = last_value(log, "kl_loss", "indexer_warmup")
    perplexity = metrics["perplexity"]
    splits = data["splits"]

    training = os.path.join(args.model, "training")
    os.makedirs(training, exist_ok=True)
    shutil.copyfile(os.path.join(args.run, "log.csv"), os.path.join(training, "log.csv"))
    shutil.copyfile(os.path.join(args.baseline, "log.csv"), os.path.join(training, "dense-baseline-log.csv"))
    plot_curves(log, baseline_log, os.path.join(training, "loss.png"))

    expert_rows = []
    for layer, load in metrics["expert_load"].items():
        shares = " ".join(f"{100 * s:.1f}" for s in load["share"])
        expert_rows.append([layer, f"{load['max_over_mean']:.2f}", f"{load['min_over_mean']:.2f}", shares])
    recall_rows = []
    for layer, entry in metrics["indexer_recall"].items():
        recall_rows.append([layer, entry["indexer_types"],
                            f"{100 * entry['shared']['topk_recall']:.1f} %", f"{100 * entry['shared']['attention_mass']:.1f} %",
                            f"{100 * entry['own']['topk_recall']:.1f} %", f"{100 * entry['own']['attention_mass']:.1f} %"])
    samples = "\n\n".join("```text\n" + sample(model, tokenizer, prompt) + "\n```" for prompt in SAMPLE_PROMPTS)
    size_mb = sum(os.path.getsize(os.path.join(folder, f)) for folder, _, files in os.walk(args.model)
                  for f in files) / 1e6

    card = f"""# {name}

A small GLM-5 style language model (`GlmMoeDsaForCausalLM`, Hugging Face transformers
model type `glm_moe_dsa`) trained from scratch on public-domain books. It exists to test
sparse-model inference engines on real learned weights: multi-head latent attention (MLA),
a lightning indexer that picks the top-{config['index_topk']} keys per query, index sharing
across layers, and a sigmoid-gated mixture of experts. It writes Gutenberg-flavoured English
of poor quality and is not meant for any other use.

## Files

| file | content |
|---|---|
| `config.json` | transformers config with the v5 field names (`rope_parameters`, `mlp_layer_types`, `indexer_types`) |
| `model.safetensors` | BF16 weights, except each `mlp.gate.e_score_correction_bias` in F32; routed experts in the per-expert layout `model.layers.L.mlp.experts.E.{{gate,up,down}}_proj.weight` |
| `tokenizer.json`, `tokenizer_config.json` | byte-level BPE for Hugging Face `tokenizers` |
| `generation_config.json` | BOS {config['bos_token_id']}, EOS {config['eos_token_id']} |
| `reference.json` | reference logits and greedy tokens for engine tests (format below) |
| `training/log.csv`, `training/dense-baseline-log.csv`, `training/loss.png` | loss curves of this model and of the dense baseline (columns: step, phase, lm_loss, kl_loss, val_loss, learning_rate, tokens_per_second, elapsed_seconds) |

Total size {size_mb:.1f} MB.

## Architecture

{table(["field", "value"], [
    ["layers", f"{config['num_hidden_layers']} (MLP types {config['mlp_layer_types']})"],
    ["hidden size", config["hidden_size"]],
    ["attention", f"MLA, {config['num_attention_heads']} heads, q_lora_rank {config['q_lora_rank']}, kv_lora_rank {config['kv_lora_rank']}, "
                  f"qk_nope_head_dim {config['qk_nope_head_dim']}, qk_rope_head_dim {config['qk_rope_head_dim']}, v_head_dim {config['v_head_dim']}"],
    ["lightning indexer", f"{config['index_n_heads']} heads of dim {config['index_head_dim']}, index_topk {config['index_topk']}, "
                          f"indexer_types {config['indexer_types']}"],
    ["dense MLP", f"SwiGLU, intermediate_size {config['intermediate_size']}"],
    ["MoE", f"{config['n_routed_experts']} routed experts (top-{config['num_experts_per_tok']}, sigmoid gate, norm_topk_prob, "
            f"routed_scaling_factor {config['routed_scaling_factor']}) + {config['n_shared_experts']} shared expert, "
            f"moe_intermediate_size {config['moe_intermediate_size']}"],
    ["RoPE", f"theta {config['rope_parameters']['rope_theta']}, interleaved pairs"],
    ["vocabulary", config["vocab_size"]],
    ["context", f"{config['max_position_embeddings']} tokens (the training length)"],
    ["parameters", f"{total / 1e6:.2f} M total, {active / 1e6:.2f} M active per token (without the embedding table, "
                   "the unused routed experts and the unused indexers of shared layers)"],
])}

Index sharing: a layer marked `shared` reuses the top-k key positions of the nearest earlier
`full` layer, as transformers' `GlmMoeDsaAttention` does with `skip_topk`. The shared layers
still carry their own indexer weights, which transformers creates for every layer; they were
trained too (towards their own layer's attention), so that the model also runs with every
layer full (see the evaluation).

RoPE rotates interleaved pairs `(x[2i], x[2i+1])` in both the attention and the indexer,
and the indexer applies it to the first `qk_rope_head_dim` dims of its query and key, the
attention to the last ones. The PyTorch implementation that trained this model reproduces
the outputs of transformers' `modeling_glm_moe_dsa.py` (commit decba1d2) on a random tiny
checkpoint to 2e-6 in the logits, including the indexer's selections.

## Data and licence

Training text: the NLTK "Project Gutenberg Selections" (13 public-domain books: Austen,
Blake, Chesterton, Melville, Milton, Shakespeare, Whitman; the NLTK repository is Apache-2.0)
and Tiny Shakespeare from karpathy/char-rnn (public-domain text). Two NLTK files are
ISO-8859-1 and were decoded as such. The text is in the public domain, so the weights carry
no licence terms from the data.

Split: each book's last 5 % (from the first line break after 95 % of its characters) is
validation, the rest training; every book is wrapped in BOS/EOS and the books are
concatenated. Training split: {splits['train']['characters']:,} characters,
{splits['train']['tokens']:,} tokens; validation split: {splits['val']['characters']:,}
characters, {splits['val']['tokens']:,} tokens.

Tokenizer: byte-level BPE trained on the training split, {config['vocab_size']} tokens
(`<|begin_of_text|>` = 0, `<|end_of_text|>` = 1, the 256 bytes in GPT-2's byte-to-unicode
mapping, then {config['vocab_size'] - 258} merges), GPT-2's pre-tokenisation regex,
ByteLevel pre-tokenizer and decoder with add_prefix_space false, no normalizer and no
post-processor (no BOS is added on encoding). Hugging Face tokenizers (through DJL 0.36.0)
encodes every validation paragraph and a set of edge cases exactly as the Python encoder that
prepared the training data (`tools/train/check_tokenizer.py`).

## Training

`tools/train/run.sh` in the sparsemesh repository; PyTorch 1.13 on CPU, float32, one thread
of a shared 2-core machine, nice 19. Batch {recipe['batch_size']} x {recipe['seq_len']} tokens
from random offsets of the training stream, AdamW (betas 0.9/0.95, weight decay
{recipe['weight_decay']}), learning rate {recipe['learning_rate']} with {recipe['warmup_steps']}
warm-up steps and cosine decay to {recipe['min_learning_rate']}, gradient clipping
{recipe['grad_clip']}.

1. Dense warm-up, {recipe['dense_steps']} steps: next-token loss with dense causal attention.
2. Indexer warm-up, {recipe['indexer_warmup_steps']} steps: the main model frozen, each indexer
   trained by KL divergence from the dense attention distribution (mean over heads; for a
   `full` layer also over the `shared` layers that reuse its indices) to the softmax of its
   index scores (AdamW, learning rate {recipe['indexer_learning_rate']}). KL fell from
   {warmup_kl_start:.3f} to {warmup_kl_end:.3f}.
3. Sparse training, {recipe['sparse_steps']} steps: attention over the indexer's top-{config['index_topk']}
   keys only; next-token loss for the main model plus the KL loss restricted to the selected
   keys for the indexers, whose inputs are detached from the main model's graph (final KL
   {final_kl:.3f}).

Expert balance: no auxiliary loss. After every step of phases 1 and 3 each gate's
`e_score_correction_bias` moves by {recipe['expert_bias_update_rate']} x sign(mean load - expert
load); the bias only affects which experts are selected, not their weights.

{lm_steps * tokens_per_step / 1e6:.1f} M tokens of language-model training
({lm_steps * tokens_per_step / splits['train']['tokens']:.1f} passes over the training split),
{minutes:.0f} minutes of compute. Final validation loss {final_val:.3f} nats per token on
{recipe['eval_batches'] * 8} evenly spaced validation windows (dense phase end, step
{dense_step}: {dense_val:.3f}).

Dense baseline (`tools/train/configs/dense-baseline.json`): the same attention with dense
softmax, and SwiGLU MLPs of width {config['moe_intermediate_size'] * (config['num_experts_per_tok'] + config['n_shared_experts'])}
(= {config['moe_intermediate_size']} x (top-{config['num_experts_per_tok']} + {config['n_shared_experts']} shared)) in place
of the MoE layers, so it has the same active parameters; {baseline_recipe['dense_steps']} steps with the
same batch and schedule shape ({baseline_minutes:.0f} minutes). Its final validation loss on the
same windows was {baseline_val:.3f}; this model had {matched_val if matched_val is None else f"{matched_val:.3f}"}
after the same number of steps (still in its dense phase, with a learning rate schedule set for
{lm_steps} steps).

## Evaluation

`tools/train/evaluate.py`: the exported BF16 weights in float32 compute, on all
{metrics['validation_windows']} non-overlapping {metrics['window_tokens']}-token windows of
the validation split ({metrics['predicted_tokens']:,} predicted tokens; a window's first
token has no context).

{table(["model", "validation perplexity"], [
    [f"{name}, sparse top-{config['index_topk']} attention, shared indices (as configured)", f"{perplexity['sparse_shared_indexers']:.2f}"],
    [f"{name}, sparse, every layer runs its own indexer", f"{perplexity['sparse_every_layer_full']:.2f}"],
    [f"{name}, dense attention (indexer off)", f"{perplexity['dense_attention']:.2f}"],
    ["dense baseline, same active parameters, fewer steps", f"{perplexity['dense_baseline']:.2f}"],
    ["interpolated Kneser-Ney trigram on the training split", f"{perplexity['kneser_ney_trigram']:.2f}"],
])}

Expert load on the validation split (share of routed assignments, in %; the max and min
columns are relative to the mean load):

{table(["layer", "max / mean", "min / mean", "share per expert 0..15 (%)"], expert_rows)}

Indexer recall, measured in a dense forward pass over the first 64 validation windows, for
queries at positions >= {config['index_topk']} (earlier queries attend to every key anyway):
"recall" is the share of the dense attention's top-{config['index_topk']} keys (mean over heads)
that the selection contains, "mass" the share of the dense attention probability inside the
selection. "As configured" uses the shared indices; "own indexer" uses the layer's own indexer.

{table(["layer", "indexer_types", "recall, as configured", "mass, as configured", "recall, own indexer", "mass, own indexer"], recall_rows)}

## Sample text

Sampled with temperature {SAMPLE_TEMPERATURE}, top-{SAMPLE_TOP_K}, seed {SAMPLE_SEED}, sparse attention
(`tools/train/model_card.py`):

{samples}

## reference.json

Written by `tools/train/fixtures.py` from the exported BF16 weights, computed in float32
with sparse top-k attention and index sharing as configured:

- `cases[]`: `prompt` (text), `prompt_ids` (tokenized without BOS), `last_logits` (the
  {config['vocab_size']} float32 logits of the last prompt position, as JSON numbers: parse as
  double, cast to float), `last_argmax`, `last_top2_margin`, `greedy_tokens` (64 argmax tokens,
  re-running the whole growing sequence without a cache at every step, no stop at EOS),
  `greedy_text`, `greedy_step_top2_margins` (logit gap between the best two tokens at each
  step), `min_indexer_kth_gap` and `indexer_kth_ties` (the smallest gap between the k-th and
  (k+1)-th index score over every position >= index_topk of the final sequence in the
  `full` layers, and how many of those gaps are exactly 0, where the selection depends on the
  top-k implementation's tie-breaking);
- `debug_case` and `debug_last_position`: for the longest prompt's last position, per
  layer, the selected key positions (`topk_indices_last_pos`, sorted), for `full` layers the
  k-th gap of the index scores, and for MoE layers the routed experts with their weights
  (routed_scaling_factor included), largest weight first;
- `weights.sha256` of `model.safetensors`, `min_greedy_top2_margin` over all cases.

Compare logits at about 1e-4 and greedy tokens exactly. A greedy step whose top-2 margin is
below about 1e-3 may flip under a different summation order, and so may a selection with an
index-score tie.
"""
    with open(os.path.join(args.model, "README.md"), "w") as file:
        file.write(card)
    print(f"wrote {os.path.join(args.model, 'README.md')}")


if __name__ == "__main__":
    main()

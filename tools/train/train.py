"""Train the GLM-5 style model in three phases, with checkpoints and resume.

Phases, following the DeepSeek-V3.2 recipe for DeepSeek Sparse Attention:
  1. dense: the whole model except the indexers learns next-token prediction with dense
     causal attention.
  2. indexer warm-up: the main model is frozen. Each "full" layer's indexer learns, by
     KL(target || softmax(index scores)), to match the dense attention distribution
     (mean over heads, and over the "shared" layers that reuse its indices).
  3. sparse: each query attends to the indexer's top-k keys only. The main model learns
     next-token prediction, and the indexers keep the KL loss restricted to the selected
     keys. The indexer's inputs are detached, so the two losses train disjoint parameters.
In phases 1 and 3 the MoE balancing bias follows the auxiliary-loss-free rule after each
step: bias += rate * sign(mean load - load).

Checkpoints go to RUN/checkpoint.pt every recipe.checkpoint_seconds and on SIGINT/SIGTERM;
rerunning the same command resumes from it. RUN/log.csv holds the loss curve.

    OPENBLAS_NUM_THREADS=1 nice -n 19 /usr/bin/python3 tools/train/train.py \
        --config tools/train/configs/glm5-mini.json --run tools/train/runs/glm5-mini
"""

import argparse
import csv
import fcntl
import json
import math
import os
import signal
import time

import numpy as np
import torch
import torch.nn.functional as F

from glm_model import ATTENTION_DENSE, ATTENTION_SPARSE, GlmMoeDsaForCausalLM

PHASE_DENSE = "dense"
PHASE_INDEXER = "indexer_warmup"
PHASE_SPARSE = "sparse"
LOG_FIELDS = ["step", "phase", "lm_loss", "kl_loss", "val_loss", "learning_rate", "tokens_per_second", "elapsed_seconds"]


def load_config(path):
    """Load a config; a "base" entry names a config file whose model and recipe this one overrides."""
    with open(path) as file:
        config = json.load(file)
    if "base" in config:
        base = load_config(os.path.join(os.path.dirname(path), config["base"]))
        base["model"].update(config.get("model", {}))
        base["recipe"].update(config.get("recipe", {}))
        return base
    return config


def phase_of(step, recipe):
    if step < recipe["dense_steps"]:
        return PHASE_DENSE
    if step < recipe["dense_steps"] + recipe["indexer_warmup_steps"]:
        return PHASE_INDEXER
    return PHASE_SPARSE


def total_steps(recipe):
    return recipe["dense_steps"] + recipe["indexer_warmup_steps"] + recipe["sparse_steps"]


def learning_rate(step, recipe):
    """Linear warm-up, then cosine decay to min_learning_rate over the LM-training steps."""
    lm_step = step if step < recipe["dense_steps"] else step - recipe["indexer_warmup_steps"]
    lm_total = recipe["dense_steps"] + recipe["sparse_steps"]
    if lm_step < recipe["warmup_steps"]:
        return recipe["learning_rate"] * (lm_step + 1) / recipe["warmup_steps"]
    progress = min(1.0, (lm_step - recipe["warmup_steps"]) / max(1, lm_total - recipe["warmup_steps"]))
    low, high = recipe["min_learning_rate"], recipe["learning_rate"]
    return low + 0.5 * (high - low) * (1 + math.cos(math.pi * progress))


class TokenWindows:
    """Random training windows of seq_len + 1 tokens; batch i of a run is the same on resume."""

    def __init__(self, path, seq_len, seed):
        self.tokens = np.fromfile(path, dtype="<u2").astype(np.int64)
        self.seq_len = seq_len
        self.seed = seed

    def batch(self, step, batch_size):
        generator = np.random.default_rng([self.seed, step])
        starts = generator.integers(0, len(self.tokens) - self.seq_len - 1, size=batch_size)
        rows = np.stack([self.tokens[s:s + self.seq_len + 1] for s in starts])
        return torch.from_numpy(rows)


def validation_windows(path, seq_len, count):
    """Return `count` evenly spaced, non-overlapping validation windows of seq_len + 1 tokens."""
    tokens = np.fromfile(path, dtype="<u2").astype(np.int64)
    available = (len(tokens) - 1) // seq_len
    picks = np.linspace(0, available - 1, num=min(count, available)).astype(np.int64)
    return torch.from_numpy(np.stack([tokens[p * seq_len:p * seq_len + seq_len + 1] for p in picks]))


def indexer_groups(config):
    """Map each "full" layer to itself plus the "shared" layers that follow and reuse its top-k."""
    groups = {}
    current = None
    for layer, kind in enumerate(config["indexer_types"]):
        if kind == "full" or current is None:
            current = layer
            groups[current] = [layer]
        else:
            groups[current].append(layer)
    return groups


def indexer_kl_loss(extras, groups, causal):
    """Mean over layers of KL(attention target || indexer distribution).

    A "full" layer's target is the head-averaged attention of itself and of the "shared"
    layers that reuse its top-k. A "shared" layer's own indexer is unused while sharing is on,
    but it learns its own layer's attention for the every-layer-full comparison. The support is
    the causal keys in phase 2 and the keys the layer attended to in phase 3, where the
    attention probabilities are zero outside that selection.
    """
    members_of = {}
    for full_layer, members in groups.items():
        for layer in members:
            members_of[layer] = members if layer == full_layer else [layer]
    losses = []
    for layer, members in sorted(members_of.items()):
        target = torch.stack([extras["attention"][m] for m in members]).mean(dim=0)
        allowed = causal[None]
        if extras["topk"][layer] is not None:
            selected = torch.zeros_like(target, dtype=torch.bool).scatter_(-1, extras["topk"][layer], True)
            allowed = allowed & selected
        log_q = torch.log_softmax(extras["index_scores"][layer].masked_fill(~allowed, float("-inf")), dim=-1)
        log_q = log_q.masked_fill(~allowed, 0.0)
        kl = torch.where(target > 0, target * (torch.log(target.clamp_min(1e-30)) - log_q), torch.zeros_like(target))
        losses.append(kl.sum(dim=-1).mean())
    return torch.stack(losses).mean()


def split_parameters(model):
    indexer, decay, no_decay = [], [], []
    for name, param in model.named_parameters():
        if ".indexer." in name:
            indexer.append(param)
        elif param.dim() >= 2:
            decay.append(param)
        else:
            no_decay.append(param)
    return indexer, decay, no_decay


def evaluate(model, windows, mode, batch_size=8):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for begin in range(0, len(windows), batch_size):
            batch = windows[begin:begin + batch_size]
            logits, _ = model(batch[:, :-1], mode=mode)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1), reduction="sum").item()
            count += batch[:, 1:].numel()
    model.train()
    return total / count


def truncate_log(log_path, step):
    """Drop log rows after the checkpoint's step, which a resumed run writes again."""
    if not os.path.exists(log_path):
        return
    with open(log_path, newline="") as file:
        rows = [row for row in csv.DictReader(file) if int(row["step"]) <= step]
    with open(log_path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=LOG_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


class StopFlag:
    def __init__(self):
        self.requested = False
        signal.signal(signal.SIGINT, self.request)
        signal.signal(signal.SIGTERM, self.request)

    def request(self, signum, frame):
        print(f"signal {signum} received; saving a checkpoint after this step", flush=True)
        self.requested = True


def save_checkpoint(path, model, optimizer, indexer_optimizer, step, elapsed):
    temporary = path + ".tmp"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "indexer_optimizer": indexer_optimizer.state_dict(), "step": step, "elapsed": elapsed}, temporary)
    os.replace(temporary, path)


def plot_log(log_path, png_path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing; skipped the loss plot")
        return
    rows = list(csv.DictReader(open(log_path)))
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for phase, color in ((PHASE_DENSE, "tab:blue"), (PHASE_SPARSE, "tab:green")):
        points = [(int(r["step"]), float(r["lm_loss"])) for r in rows if r["phase"] == phase and r["lm_loss"]]
        if points:
            axis.plot(*zip(*points), color=color, alpha=0.5, linewidth=0.8, label=f"train LM loss ({phase})")
    points = [(int(r["step"]), float(r["val_loss"])) for r in rows if r["val_loss"]]
    if points:
        axis.plot(*zip(*points), "o-", color="black", markersize=3, label="validation loss")
    points = [(int(r["step"]), float(r["kl_loss"])) for r in rows if r["kl_loss"]]
    if points:
        axis.plot(*zip(*points), color="tab:red", alpha=0.6, linewidth=0.8, label="indexer KL loss")
    axis.set_xlabel("step")
    axis.set_ylabel("nats per token")
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(png_path, dpi=110)


def train(config_path, run, data, threads):
    torch.set_num_threads(threads)
    config = load_config(config_path)
    recipe = config["recipe"]
    model_config = config["model"]
    os.makedirs(run, exist_ok=True)
    lock = open(os.path.join(run, "lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"another trainer is using {run}; wait for it to finish or stop it first")
    with open(os.path.join(run, "config.json"), "w") as file:
        json.dump(config, file, indent=1)

    torch.manual_seed(recipe["seed"])
    model = GlmMoeDsaForCausalLM(model_config)
    model.init_weights(torch.Generator().manual_seed(recipe["seed"]))
    indexer_params, decay, no_decay = split_parameters(model)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": recipe["weight_decay"]},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=recipe["learning_rate"], betas=(0.9, 0.95))
    indexer_optimizer = torch.optim.AdamW(indexer_params, lr=recipe["indexer_learning_rate"],
                                          betas=(0.9, 0.95), weight_decay=0.0)

    checkpoint_path = os.path.join(run, "checkpoint.pt")
    step, elapsed = 0, 0.0
    if os.path.exists(checkpoint_path):
        state = torch.load(checkpoint_path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        indexer_optimizer.load_state_dict(state["indexer_optimizer"])
        step, elapsed = state["step"], state["elapsed"]
        print(f"resumed from {checkpoint_path} at step {step} ({elapsed / 60:.1f} min trained)", flush=True)

    windows = TokenWindows(os.path.join(data, "train.bin"), recipe["seq_len"], recipe["seed"])
    val = validation_windows(os.path.join(data, "val.bin"), recipe["seq_len"], recipe["eval_batches"] * 8)
    groups = indexer_groups(model_config)
    causal = torch.ones(recipe["seq_len"], recipe["seq_len"], dtype=torch.bool).tril()
    log_path = os.path.join(run, "log.csv")
    truncate_log(log_path, step)
    new_log = not os.path.exists(log_path)
    log_file = open(log_path, "a", newline="")
    log = csv.DictWriter(log_file, fieldnames=LOG_FIELDS)
    if new_log:
        log.writeheader()

    stop = StopFlag()
    last_save = time.time()
    final = total_steps(recipe)
    print(f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters; steps {step}..{final}", flush=True)
    while step < final and not stop.requested:
        started = time.time()
        phase = phase_of(step, recipe)
        batch = windows.batch(step, recipe["batch_size"])
        inputs, targets = batch[:, :-1], batch[:, 1:]
        lm_value, kl_value, rate = None, None, None

        if phase == PHASE_INDEXER:
            # main model frozen: its forward runs without gradients, the indexers get theirs
            # from the detached inputs inside the attention layers
            for param in decay + no_decay:
                param.requires_grad_(False)
            _, extras = model(inputs, mode=ATTENTION_DENSE, want_index_scores=True, want_attention=True)
            loss = indexer_kl_loss(extras, groups, causal)
            indexer_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(indexer_params, recipe["grad_clip"])
            indexer_optimizer.step()
            for param in decay + no_decay:
                param.requires_grad_(True)
            kl_value = loss.item()
        else:
            sparse = phase == PHASE_SPARSE
            rate = learning_rate(step, recipe)
            for group in optimizer.param_groups:
                group["lr"] = rate
            logits, extras = model(inputs, mode=ATTENTION_SPARSE if sparse else ATTENTION_DENSE,
                                   want_index_scores=sparse, want_attention=sparse)
            lm_loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            loss = lm_loss
            if sparse:
                kl_loss = indexer_kl_loss(extras, groups, causal)
                loss = loss + kl_loss
                kl_value = kl_loss.item()
            optimizer.zero_grad(set_to_none=True)
            indexer_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(decay + no_decay, recipe["grad_clip"])
            optimizer.step()
            if sparse:
                torch.nn.utils.clip_grad_norm_(indexer_params, recipe["grad_clip"])
                indexer_optimizer.step()
            model.update_expert_bias(extras["load"], recipe["expert_bias_update_rate"])
            lm_value = lm_loss.item()

        step += 1
        step_seconds = time.time() - started
        elapsed += step_seconds
        val_value = None
        if step % recipe["eval_every"] == 0 or step == final:
            val_value = evaluate(model, val, ATTENTION_SPARSE if phase == PHASE_SPARSE else ATTENTION_DENSE)
        log.writerow({"step": step, "phase": phase,
                      "lm_loss": f"{lm_value:.4f}" if lm_value is not None else "",
                      "kl_loss": f"{kl_value:.4f}" if kl_value is not None else "",
                      "val_loss": f"{val_value:.4f}" if val_value is not None else "",
                      "learning_rate": f"{rate:.6f}" if rate is not None else "",
                      "tokens_per_second": f"{inputs.numel() / step_seconds:.0f}",
                      "elapsed_seconds": f"{elapsed:.0f}"})
        if step % 20 == 0 or val_value is not None:
            log_file.flush()
            print(f"step {step}/{final} {phase} lm {lm_value} kl {kl_value} val {val_value} "
                  f"{inputs.numel() / step_seconds:.0f} tok/s", flush=True)
        if time.time() - last_save > recipe["checkpoint_seconds"] or stop.requested or step == final:
            save_checkpoint(checkpoint_path, model, optimizer, indexer_optimizer, step, elapsed)
            last_save = time.time()

    log_file.close()
    if step >= final:
        torch.save(model.state_dict(), os.path.join(run, "final.pt"))
        plot_log(log_path, os.path.join(run, "loss.png"))
        print(f"finished {final} steps in {elapsed / 60:.1f} min; weights in {run}/final.pt", flush=True)
    else:
        print(f"stopped at step {step}; rerun the same command to resume", flush=True)
        raise SystemExit(3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="JSON file with model and recipe")
    parser.add_argument("--run", required=True, help="run folder for checkpoint.pt, log.csv and final.pt")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "runs", "data"),
                        help="folder with train.bin and val.bin from prepare_data.py")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    args = parser.parse_args()
    train(args.config, args.run, args.data, args.threads)


if __name__ == "__main__":
    main()

"""GLM-5 style causal language model (GlmMoeDsaForCausalLM) in plain PyTorch.

The math follows Hugging Face transformers' models/glm_moe_dsa/modeling_glm_moe_dsa.py
(5.x): multi-head latent attention (MLA) with a low-rank query, a lightning indexer that
selects the top-k key positions per query, indexer sharing across layers (`indexer_types`),
a dense first MLP and sigmoid-gated mixture-of-experts layers with a shared expert.
Module names equal the checkpoint names, except that the routed experts are stacked into
3-D parameters here; `to_hf_state_dict` and `from_hf_state_dict` convert to and from the
per-expert layout `mlp.experts.{E}.{gate,up,down}_proj.weight`.

Beyond inference, the forward pass returns what the training recipe needs: the dense
attention distribution per layer (the indexer's distillation target), the indexer's
scores with gradients, and the expert load per MoE layer.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

ATTENTION_DENSE = "dense"
ATTENTION_SPARSE = "sparse"


class RMSNorm(nn.Module):
    def __init__(self, size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        variance = x.float().pow(2).mean(-1, keepdim=True)
        return self.weight * (x.float() * torch.rsqrt(variance + self.eps)).to(x.dtype)


def apply_rope(x, cos, sin):
    """Rotate interleaved pairs (x[2i], x[2i+1]) by angle position * inv_freq[i].

    cos and sin are [S, rope_dim / 2] and broadcast over x's leading dims. Interleaved pairs
    (DeepSeek's complex-number layout, GPT-J style) are what transformers at commit decba1d2
    computes for GlmMoeDsa in both the attention and the indexer: check_reference.py matches
    its logits with this layout and fails with split halves (NeoX layout).
    """
    even, odd = x[..., 0::2], x[..., 1::2]
    rotated_even = even * cos - odd * sin
    rotated_odd = even * sin + odd * cos
    return torch.stack((rotated_even, rotated_odd), dim=-1).flatten(-2)


def rope_tables(rope_dim, theta, positions):
    """Return cos and sin of shape [S, rope_dim / 2] for integer positions [S]."""
    exponents = torch.arange(0, rope_dim, 2, dtype=torch.int64).float() / rope_dim
    inv_freq = 1.0 / (theta ** exponents)
    angles = positions.float()[:, None] * inv_freq[None, :]
    return angles.cos(), angles.sin()


class Mlp(nn.Module):
    """SwiGLU feed-forward: down(silu(gate(x)) * up(x))."""

    def __init__(self, hidden_size, intermediate_size):
        super().__init__()
        self.gate_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.up_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LightningIndexer(nn.Module):
    """Scores every earlier key position for each query: I[s,t] = sum_h w[s,h] * ReLU(q[s,h].k[t]).

    RoPE covers the first qk_rope_head_dim dims of the indexer's query and key (the main
    attention puts its RoPE dims last, after the no-position dims). w = weights_proj(x) / sqrt(n_heads) and the dot
    product is scaled by 1/sqrt(index_head_dim), as in the transformers code.
    """

    def __init__(self, config):
        super().__init__()
        self.n_heads = config["index_n_heads"]
        self.head_dim = config["index_head_dim"]
        self.rope_dim = config["qk_rope_head_dim"]
        self.wq_b = nn.Linear(config["q_lora_rank"], self.n_heads * self.head_dim, bias=False)
        self.wk = nn.Linear(config["hidden_size"], self.head_dim, bias=False)
        self.k_norm = nn.LayerNorm(self.head_dim, eps=1e-6)
        self.weights_proj = nn.Linear(config["hidden_size"], self.n_heads, bias=False)

    def forward(self, x, q_resid, cos, sin):
        batch, seq_len, _ = x.shape

        q = self.wq_b(q_resid).view(batch, seq_len, self.n_heads, self.head_dim)
        q_pe, q_nope = q.split([self.rope_dim, self.head_dim - self.rope_dim], dim=-1)
        q = torch.cat([apply_rope(q_pe, cos[:, None, :], sin[:, None, :]), q_nope], dim=-1)

        k = self.k_norm(self.wk(x))
        k_pe, k_nope = k.split([self.rope_dim, self.head_dim - self.rope_dim], dim=-1)
        k = torch.cat([apply_rope(k_pe, cos, sin), k_nope], dim=-1)

        weights = self.weights_proj(x).float() * self.n_heads ** -0.5
        scores = torch.einsum("bshd,btd->bsht", q.float(), k.float()) * self.head_dim ** -0.5
        return torch.einsum("bsht,bsh->bst", F.relu(scores), weights)


class MultiHeadLatentAttention(nn.Module):
    def __init__(self, config, layer_index):
        super().__init__()
        self.num_heads = config["num_attention_heads"]
        self.nope_dim = config["qk_nope_head_dim"]
        self.rope_dim = config["qk_rope_head_dim"]
        self.v_dim = config["v_head_dim"]
        self.kv_lora_rank = config["kv_lora_rank"]
        self.qk_head_dim = self.nope_dim + self.rope_dim
        self.index_topk = config["index_topk"]
        hidden = config["hidden_size"]
        q_lora_rank = config["q_lora_rank"]

        self.q_a_proj = nn.Linear(hidden, q_lora_rank, bias=False)
        # transformers builds q_a_layernorm and kv_a_layernorm with its default eps 1e-6,
        # not config.rms_norm_eps.
        self.q_a_layernorm = RMSNorm(q_lora_rank)
        self.q_b_proj = nn.Linear(q_lora_rank, self.num_heads * self.qk_head_dim, bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(hidden, self.kv_lora_rank + self.rope_dim, bias=False)
        self.kv_a_layernorm = RMSNorm(self.kv_lora_rank)
        self.kv_b_proj = nn.Linear(self.kv_lora_rank, self.num_heads * (self.nope_dim + self.v_dim), bias=False)
        self.o_proj = nn.Linear(self.num_heads * self.v_dim, hidden, bias=False)
        self.indexer = LightningIndexer(config)
        self.shares_indices = config["indexer_types"][layer_index] == "shared"

    def forward(self, x, cos, sin, causal, mode, shared_topk, want_index_scores, want_attention):
        """Return (output, topk, index_scores, head-averaged attention probabilities).

        causal: [S, S] bool, True where key t <= query s. shared_topk: the top-k indices
        of the nearest earlier "full" layer, used when this layer is "shared"; pass None to
        make a "shared" layer run its own indexer.
        """
        batch, seq_len, _ = x.shape

        # query: x -> q_a_proj -> RMSNorm -> q_b_proj -> (nope, rope) per head
        q_resid = self.q_a_layernorm(self.q_a_proj(x))
        q = self.q_b_proj(q_resid).view(batch, seq_len, self.num_heads, self.qk_head_dim).transpose(1, 2)
        q_nope, q_pe = q.split([self.nope_dim, self.rope_dim], dim=-1)
        q = torch.cat([q_nope, apply_rope(q_pe, cos, sin)], dim=-1)

        # key and value: x -> kv_a_proj_with_mqa -> (latent, shared RoPE key); latent -> RMSNorm -> kv_b_proj
        latent, k_pe = self.kv_a_proj_with_mqa(x).split([self.kv_lora_rank, self.rope_dim], dim=-1)
        kv = self.kv_b_proj(self.kv_a_layernorm(latent))
        kv = kv.view(batch, seq_len, self.num_heads, self.nope_dim + self.v_dim).transpose(1, 2)
        k_nope, v = kv.split([self.nope_dim, self.v_dim], dim=-1)
        k_pe = apply_rope(k_pe[:, None, :, :], cos, sin).expand(-1, self.num_heads, -1, -1)
        k = torch.cat([k_nope, k_pe], dim=-1)

        # lightning indexer on inputs detached from the main graph, so that only its own
        # distillation loss trains it
        reuses_indices = self.shares_indices and shared_topk is not None
        index_scores = None
        if want_index_scores or (mode == ATTENTION_SPARSE and not reuses_indices):
            index_scores = self.indexer(x.detach(), q_resid.detach(), cos, sin)

        # top-k selection: causal mask, then the k highest index scores (or the shared ones)
        allowed = causal[None, :, :].expand(batch, -1, -1)
        topk = None
        if mode == ATTENTION_SPARSE:
            if reuses_indices:
                topk = shared_topk
            else:
                with torch.no_grad():
                    masked = index_scores.masked_fill(~allowed, float("-inf"))
                    topk = masked.topk(min(self.index_topk, seq_len), dim=-1).indices
            selected = torch.zeros_like(allowed).scatter_(-1, topk, True)
            allowed = allowed & selected

        # softmax attention over the allowed keys
        scores = torch.matmul(q, k.transpose(2, 3)) * self.qk_head_dim ** -0.5
        scores = scores.masked_fill(~allowed[:, None, :, :], float("-inf"))
        probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(batch, seq_len, self.num_heads * self.v_dim)

        attention = probs.detach().mean(dim=1) if want_attention else None
        return self.o_proj(out), topk, index_scores, attention


class MoeGate(nn.Module):
    """Router weights and the auxiliary-loss-free balancing bias (used for selection only)."""

    def __init__(self, config):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(config["n_routed_experts"], config["hidden_size"]))
        self.register_buffer("e_score_correction_bias", torch.zeros(config["n_routed_experts"]))


class MixtureOfExperts(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.n_experts = config["n_routed_experts"]
        self.top_k = config["num_experts_per_tok"]
        self.n_group = config["n_group"]
        self.topk_group = config["topk_group"]
        self.norm_topk_prob = config["norm_topk_prob"]
        self.routed_scaling_factor = config["routed_scaling_factor"]
        hidden = config["hidden_size"]
        inter = config["moe_intermediate_size"]

        self.gate = MoeGate(config)
        # Stacked expert weights [E, out, in]; the checkpoint stores one matrix per expert.
        self.expert_gate_proj = nn.Parameter(torch.empty(self.n_experts, inter, hidden))
        self.expert_up_proj = nn.Parameter(torch.empty(self.n_experts, inter, hidden))
        self.expert_down_proj = nn.Parameter(torch.empty(self.n_experts, hidden, inter))
        self.shared_experts = Mlp(hidden, inter * config["n_shared_experts"])

    def route(self, x):
        """Return (expert indices [N, k], weights [N, k]) for tokens x [N, H]."""
        scores = torch.sigmoid(F.linear(x.float(), self.gate.weight.float()))
        with torch.no_grad():
            choice = scores + self.gate.e_score_correction_bias
            per_group = choice.view(-1, self.n_group, self.n_experts // self.n_group)
            group_scores = per_group.topk(min(2, per_group.shape[-1]), dim=-1).values.sum(dim=-1)
            group_index = group_scores.topk(self.topk_group, dim=-1, sorted=False).indices
            group_mask = torch.zeros_like(group_scores).scatter_(1, group_index, 1.0)
            expert_mask = group_mask.repeat_interleave(self.n_experts // self.n_group, dim=1)
            choice = choice.masked_fill(expert_mask == 0, float("-inf"))
            indices = choice.topk(self.top_k, dim=-1, sorted=False).indices

        weights = scores.gather(1, indices)
        if self.norm_topk_prob:
            weights = weights / (weights.sum(dim=-1, keepdim=True) + 1e-20)
        return indices, weights * self.routed_scaling_factor

    def forward(self, x):
        shape = x.shape
        tokens = x.reshape(-1, shape[-1])
        indices, weights = self.route(tokens)

        routed = torch.zeros_like(tokens)
        for expert in range(self.n_experts):
            token_index, slot = torch.where(indices == expert)
            if token_index.numel() == 0:
                continue
            h = tokens[token_index]
            h = F.silu(h @ self.expert_gate_proj[expert].t()) * (h @ self.expert_up_proj[expert].t())
            h = (h @ self.expert_down_proj[expert].t()) * weights[token_index, slot, None].to(h.dtype)
            routed = routed.index_add(0, token_index, h)

        load = torch.bincount(indices.reshape(-1), minlength=self.n_experts)
        return routed.view(shape) + self.shared_experts(x), load


class DecoderLayer(nn.Module):
    def __init__(self, config, layer_index, mlp_type, dense_intermediate):
        super().__init__()
        eps = config["rms_norm_eps"]
        self.input_layernorm = RMSNorm(config["hidden_size"], eps)
        self.self_attn = MultiHeadLatentAttention(config, layer_index)
        self.post_attention_layernorm = RMSNorm(config["hidden_size"], eps)
        self.is_moe = mlp_type == "sparse"
        self.mlp = MixtureOfExperts(config) if self.is_moe else Mlp(config["hidden_size"], dense_intermediate)


class GlmBackbone(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed_tokens = nn.Embedding(config["vocab_size"], config["hidden_size"])
        # dense_intermediate_sizes is a training-tool field for the dense baseline only.
        dense_sizes = config.get("dense_intermediate_sizes") or [config["intermediate_size"]] * config["num_hidden_layers"]
        self.layers = nn.ModuleList([
            DecoderLayer(config, i, config["mlp_layer_types"][i], dense_sizes[i])
            for i in range(config["num_hidden_layers"])])
        self.norm = RMSNorm(config["hidden_size"], config["rms_norm_eps"])


class GlmMoeDsaForCausalLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.model = GlmBackbone(config)
        self.lm_head = nn.Linear(config["hidden_size"], config["vocab_size"], bias=False)

    def init_weights(self, generator=None):
        """Draw N(0, 0.02) weights; output projections get 0.02 / sqrt(2 * layers)."""
        std = self.config["initializer_range"]
        residual_std = std / math.sqrt(2 * self.config["num_hidden_layers"])
        with torch.no_grad():
            for name, param in self.named_parameters():
                if name.endswith("norm.weight"):
                    param.fill_(1.0)
                elif name.endswith("k_norm.bias"):
                    param.zero_()
                elif name.endswith("o_proj.weight") or "down_proj" in name:
                    param.normal_(0.0, residual_std, generator=generator)
                else:
                    param.normal_(0.0, std, generator=generator)

    def forward(self, input_ids, mode=ATTENTION_SPARSE, want_index_scores=False, want_attention=False,
                share_indices=True):
        """Run the model on input_ids [B, S] from position 0.

        share_indices=False makes every layer run its own indexer, ignoring indexer_types.

        Returns logits [B, S, V] and a dict with per-layer lists: "topk", "index_scores",
        "attention" (mean over heads) and "load" (expert counts, None for dense layers).
        """
        config = self.config
        seq_len = input_ids.shape[1]
        cos, sin = rope_tables(config["qk_rope_head_dim"], config["rope_parameters"]["rope_theta"],
                               torch.arange(seq_len))
        causal = torch.ones(seq_len, seq_len, dtype=torch.bool).tril()

        x = self.model.embed_tokens(input_ids)
        extras = {"topk": [], "index_scores": [], "attention": [], "load": []}
        shared_topk = None
        for layer in self.model.layers:
            attn_out, topk, index_scores, attention = layer.self_attn(
                layer.input_layernorm(x), cos, sin, causal, mode, shared_topk if share_indices else None,
                want_index_scores, want_attention)
            x = x + attn_out
            shared_topk = topk

            if layer.is_moe:
                mlp_out, load = layer.mlp(layer.post_attention_layernorm(x))
            else:
                mlp_out, load = layer.mlp(layer.post_attention_layernorm(x)), None
            x = x + mlp_out

            extras["topk"].append(topk)
            extras["index_scores"].append(index_scores)
            extras["attention"].append(attention)
            extras["load"].append(load)

        logits = self.lm_head(self.model.norm(x))
        return logits, extras

    @torch.no_grad()
    def update_expert_bias(self, loads, rate):
        """Apply the auxiliary-loss-free rule: bias += rate * sign(mean load - load) per MoE layer."""
        for layer, load in zip(self.model.layers, loads):
            if layer.is_moe and load is not None:
                load = load.float()
                layer.mlp.gate.e_score_correction_bias += rate * torch.sign(load.mean() - load)


_EXPERT_PARTS = ("gate_proj", "up_proj", "down_proj")


def to_hf_state_dict(model):
    """Return the state dict in the Hugging Face checkpoint layout (one matrix per expert)."""
    state = {}
    for name, tensor in model.state_dict().items():
        matched = False
        for part in _EXPERT_PARTS:
            suffix = f"mlp.expert_{part}"
            if name.endswith(suffix):
                prefix = name[: -len(suffix)]
                for expert in range(tensor.shape[0]):
                    state[f"{prefix}mlp.experts.{expert}.{part}.weight"] = tensor[expert].clone()
                matched = True
        if not matched:
            state[name] = tensor
    return state


def from_hf_state_dict(model, hf_state):
    """Load a Hugging Face layout state dict (per-expert matrices) into the model."""
    own = model.state_dict()
    converted = {}
    for name in own:
        part = next((p for p in _EXPERT_PARTS if name.endswith(f"mlp.expert_{p}")), None)
        if part is None:
            if name not in hf_state:
                raise KeyError(f"checkpoint has no tensor {name}; it does not match this config")
            converted[name] = hf_state[name]
        else:
            prefix = name[: -len(f"mlp.expert_{part}")]
            count = own[name].shape[0]
            converted[name] = torch.stack([hf_state[f"{prefix}mlp.experts.{e}.{part}.weight"] for e in range(count)])
    for name, tensor in converted.items():
        if tuple(tensor.shape) != tuple(own[name].shape):
            raise ValueError(f"tensor {name} has shape {tuple(tensor.shape)}, config expects {tuple(own[name].shape)}")
    model.load_state_dict(converted)

"""Export a trained run to a Hugging Face GlmMoeDsaForCausalLM folder.

Writes config.json, model.safetensors (BF16, except each gate's e_score_correction_bias,
which stays F32 as transformers keeps it in float32), tokenizer.json, tokenizer_config.json
and generation_config.json. Routed experts use the per-expert checkpoint layout
`model.layers.{L}.mlp.experts.{E}.{gate,up,down}_proj.weight`.

    /usr/bin/python3 tools/train/export.py --run tools/train/runs/glm5-mini \
        --tokenizer tools/train/runs/data/tokenizer.json --out models/glm5-mini-gutenberg
"""

import argparse
import json
import os
import shutil

import torch

from glm_model import GlmMoeDsaForCausalLM, from_hf_state_dict, to_hf_state_dict
from prepare_data import BOS_TOKEN, EOS_TOKEN
from safetensors_io import read_safetensors, write_safetensors

# Keys of the run config that only the training tool reads.
TRAINING_ONLY_KEYS = ("dense_intermediate_sizes",)
FLOAT32_SUFFIXES = ("e_score_correction_bias",)


def hf_config(model_config):
    config = {key: value for key, value in model_config.items() if key not in TRAINING_ONLY_KEYS}
    config["dtype"] = "bfloat16"
    return dict(sorted(config.items()))


def load_exported(folder):
    """Load an exported folder into a float32 model (BF16 weights widened exactly)."""
    with open(os.path.join(folder, "config.json")) as file:
        config = json.load(file)
    model = GlmMoeDsaForCausalLM(config)
    from_hf_state_dict(model, read_safetensors(os.path.join(folder, "model.safetensors")))
    return model.eval()


def export(run, tokenizer_path, out):
    with open(os.path.join(run, "config.json")) as file:
        run_config = json.load(file)
    model = GlmMoeDsaForCausalLM(run_config["model"])
    model.load_state_dict(torch.load(os.path.join(run, "final.pt")))
    os.makedirs(out, exist_ok=True)

    config = hf_config(run_config["model"])
    with open(os.path.join(out, "config.json"), "w") as file:
        json.dump(config, file, indent=2)
        file.write("\n")

    state = to_hf_state_dict(model)
    dtypes = {name: "F32" if name.endswith(FLOAT32_SUFFIXES) else "BF16" for name in state}
    write_safetensors(os.path.join(out, "model.safetensors"), state, dtypes, {"format": "pt"})

    shutil.copyfile(tokenizer_path, os.path.join(out, "tokenizer.json"))
    with open(tokenizer_path, encoding="utf-8") as file:
        added = json.load(file)["added_tokens"]
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS_TOKEN,
        "eos_token": EOS_TOKEN,
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": config["max_position_embeddings"],
        "added_tokens_decoder": {str(t["id"]): {key: t[key] for key in
                                                ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
                                 for t in added},
    }
    with open(os.path.join(out, "tokenizer_config.json"), "w") as file:
        json.dump(tokenizer_config, file, indent=2, ensure_ascii=False)
        file.write("\n")

    generation = {"_from_model_config": True, "bos_token_id": config["bos_token_id"],
                  "eos_token_id": config["eos_token_id"], "use_cache": True}
    with open(os.path.join(out, "generation_config.json"), "w") as file:
        json.dump(generation, file, indent=2)
        file.write("\n")

    # Round trip: the exported BF16 weights must load back into the same architecture.
    reloaded = load_exported(out)
    difference = max((reloaded.state_dict()[k] - v.float()).abs().max().item()
                     for k, v in model.state_dict().items())
    total_bytes = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"exported {len(state)} tensors to {out} ({total_bytes / 1e6:.1f} MB); "
          f"max |BF16 - F32| weight difference {difference:.2e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="training run folder with config.json and final.pt")
    parser.add_argument("--tokenizer", required=True, help="tokenizer.json from prepare_data.py")
    parser.add_argument("--out", required=True, help="output model folder")
    args = parser.parse_args()
    export(args.run, args.tokenizer, args.out)


if __name__ == "__main__":
    main()

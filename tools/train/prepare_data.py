"""Split the corpus, train the byte-level BPE tokenizer and write token files.

Each book (the NLTK Gutenberg selection and Tiny Shakespeare) is split at the first line
break after 95% of its characters: the head goes to the training split, the tail to the
validation split. The tokenizer is trained on the training split only. Every book becomes
BOS + tokens + EOS, and the books are concatenated in file-name order into train.bin and
val.bin (little-endian uint16). Rerunning with the same inputs writes the same files.

    /usr/bin/python3 tools/train/prepare_data.py --corpus /work/shared/data/corpus --out tools/train/runs/data
"""

import argparse
import hashlib
import json
import os
import time

import numpy as np

from bpe import ByteLevelBpe, train_bpe

BOS_TOKEN = "<|begin_of_text|>"
EOS_TOKEN = "<|end_of_text|>"
SPECIAL_TOKENS = [BOS_TOKEN, EOS_TOKEN]
VALIDATION_FRACTION = 0.05


def list_books(corpus):
    books = []
    for folder in sorted(os.listdir(corpus)):
        for name in sorted(os.listdir(os.path.join(corpus, folder))):
            if name.endswith(".txt"):
                books.append(os.path.join(corpus, folder, name))
    if not books:
        raise FileNotFoundError(f"no .txt books under {corpus}; pass --corpus with the corpus folder")
    return books


def read_book(path):
    """Read a book as UTF-8, or as ISO-8859-1 when it is not valid UTF-8 (two NLTK files are)."""
    with open(path, "rb") as file:
        raw = file.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-1")
    return text.replace("\r\n", "\n")


def split_book(text):
    cut = text.find("\n", int(len(text) * (1 - VALIDATION_FRACTION)))
    cut = len(text) if cut < 0 else cut + 1
    return text[:cut], text[cut:]


def write_tokens(path, ids):
    array = np.asarray(ids, dtype="<u2")
    array.tofile(path)
    return hashlib.sha256(array.tobytes()).hexdigest()


def prepare(corpus, out, vocab_size):
    os.makedirs(out, exist_ok=True)
    books = list_books(corpus)
    splits = {"train": [], "val": []}
    for path in books:
        text = read_book(path)
        head, tail = split_book(text)
        splits["train"].append((path, head))
        splits["val"].append((path, tail))

    for split, parts in splits.items():
        with open(os.path.join(out, f"{split}.txt"), "w", encoding="utf-8") as file:
            for _, text in parts:
                file.write(text)

    started = time.time()
    vocab, merges = train_bpe([text for _, text in splits["train"]], vocab_size, SPECIAL_TOKENS)
    tokenizer = ByteLevelBpe(vocab, merges, SPECIAL_TOKENS)
    tokenizer.save(os.path.join(out, "tokenizer.json"))
    print(f"trained BPE with {len(vocab)} tokens ({len(merges)} merges) in {time.time() - started:.0f} s")

    summary = {"vocab_size": len(vocab), "books": [os.path.relpath(p, corpus) for p in books], "splits": {}}
    for split, parts in splits.items():
        ids = []
        for _, text in parts:
            ids.append(tokenizer.vocab[BOS_TOKEN])
            ids.extend(tokenizer.encode(text))
            ids.append(tokenizer.vocab[EOS_TOKEN])
        digest = write_tokens(os.path.join(out, f"{split}.bin"), ids)
        chars = sum(len(text) for _, text in parts)
        summary["splits"][split] = {"tokens": len(ids), "characters": chars,
                                    "bytes": sum(len(t.encode("utf-8")) for _, t in parts), "sha256": digest}
        print(f"{split}: {chars} characters -> {len(ids)} tokens ({chars / len(ids):.2f} characters per token)")
    with open(os.path.join(out, "summary.json"), "w") as file:
        json.dump(summary, file, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="/work/shared/data/corpus", help="folder of book folders with .txt files")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "runs", "data"),
                        help="output folder for the splits, tokenizer.json and token files")
    parser.add_argument("--vocab-size", type=int, default=4096, help="vocabulary size including special tokens")
    args = parser.parse_args()
    prepare(args.corpus, args.out, args.vocab_size)


if __name__ == "__main__":
    main()

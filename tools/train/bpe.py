"""Byte-level BPE: training, encoding and decoding, saved as a Hugging Face tokenizer.json.

The encoder follows the Hugging Face `tokenizers` semantics for this configuration: special
tokens are split out first; the ByteLevel pre-tokenizer (add_prefix_space false, use_regex
true) splits the rest with GPT-2's regex and maps every byte to a printable character with
GPT-2's byte-to-unicode table; the BPE model then repeatedly merges the adjacent pair with
the lowest merge rank (leftmost first) inside each piece, and ignore_merges is false.
"""

import collections
import heapq
import json

import regex

# GPT-2's pre-tokenization pattern, the one ByteLevel uses with use_regex true.
PRETOKENIZE_PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """Return GPT-2's map from each byte value to a printable unicode character."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    shift = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + shift)
            shift += 1
    return {byte: chr(code) for byte, code in zip(printable, codes)}


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {char: byte for byte, char in BYTE_TO_CHAR.items()}


def pretokenize(text):
    """Split text with the GPT-2 pattern and map each piece's UTF-8 bytes to unicode characters."""
    return ["".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))
            for piece in PRETOKENIZE_PATTERN.findall(text)]


def train_bpe(texts, vocab_size, special_tokens):
    """Learn merges on texts until the vocabulary (specials + 256 bytes + merges) has vocab_size entries.

    Each step merges the most frequent adjacent pair, counted over pre-tokenized words; ties
    go to the pair whose two strings sort first. Returns (vocab: token -> id, merges: list of pairs).
    """
    word_counts = collections.Counter()
    for text in texts:
        word_counts.update(pretokenize(text))

    vocab = {token: i for i, token in enumerate(special_tokens)}
    for byte in range(256):
        vocab[BYTE_TO_CHAR[byte]] = len(vocab)

    words = [list(word) for word in word_counts]
    counts = [word_counts[word] for word in word_counts]
    pair_counts = collections.Counter()
    pair_words = collections.defaultdict(set)
    for index, symbols in enumerate(words):
        for pair in zip(symbols, symbols[1:]):
            pair_counts[pair] += counts[index]
            pair_words[pair].add(index)

    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    while len(vocab) < vocab_size and heap:
        negative_count, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative_count:
            continue  # stale heap entry; the current count was pushed separately
        if negative_count == 0:
            break
        merged = pair[0] + pair[1]
        merges.append(pair)
        vocab.setdefault(merged, len(vocab))

        changed = set()
        for index in list(pair_words[pair]):
            symbols = words[index]
            count = counts[index]
            for old in zip(symbols, symbols[1:]):
                pair_counts[old] -= count
                changed.add(old)
            symbols = merge_pair(symbols, pair, merged)
            words[index] = symbols
            for new in zip(symbols, symbols[1:]):
                pair_counts[new] += count
                pair_words[new].add(index)
                changed.add(new)
        for changed_pair in changed:
            if pair_counts[changed_pair] > 0:
                heapq.heappush(heap, (-pair_counts[changed_pair], changed_pair))
            else:
                pair_counts.pop(changed_pair, None)
        pair_counts.pop(pair, None)
        pair_words.pop(pair, None)
    return vocab, merges


def merge_pair(symbols, pair, merged):
    """Replace every non-overlapping occurrence of pair in symbols, scanning left to right."""
    out = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            out.append(merged)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


class ByteLevelBpe:
    def __init__(self, vocab, merges, special_tokens):
        self.vocab = vocab
        self.id_to_token = {i: token for token, i in vocab.items()}
        self.ranks = {tuple(pair): rank for rank, pair in enumerate(merges)}
        self.merges = [tuple(pair) for pair in merges]
        self.special_tokens = list(special_tokens)
        self.special_pattern = regex.compile("|".join(regex.escape(t) for t in self.special_tokens)) \
            if self.special_tokens else None
        self.cache = {}

    def bpe(self, word):
        """Return the tokens of one pre-tokenized word, merging the lowest-ranked pair first."""
        cached = self.cache.get(word)
        if cached is not None:
            return cached
        symbols = list(word)
        while len(symbols) > 1:
            best = min(zip(symbols, symbols[1:]), key=lambda pair: self.ranks.get(pair, float("inf")))
            if best not in self.ranks:
                break
            symbols = merge_pair(symbols, best, best[0] + best[1])
        self.cache[word] = symbols
        return symbols

    def encode(self, text):
        ids = []
        position = 0
        matches = list(self.special_pattern.finditer(text)) if self.special_pattern else []
        for match in matches + [None]:
            end = match.start() if match else len(text)
            for word in pretokenize(text[position:end]):
                ids.extend(self.vocab[token] for token in self.bpe(word))
            if match:
                ids.append(self.vocab[match.group()])
                position = match.end()
        return ids

    def decode(self, ids, skip_special_tokens=False):
        parts = []
        for i in ids:
            token = self.id_to_token[i]
            if token in self.special_tokens:
                if not skip_special_tokens:
                    parts.append(token.encode("utf-8"))
            else:
                parts.append(bytes(CHAR_TO_BYTE[c] for c in token))
        return b"".join(parts).decode("utf-8", errors="replace")

    def to_tokenizer_json(self):
        """Return the Hugging Face tokenizer.json structure for this tokenizer."""
        added = [{"id": self.vocab[token], "content": token, "single_word": False, "lstrip": False,
                  "rstrip": False, "normalized": False, "special": True} for token in self.special_tokens]
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": byte_level,
            "post_processor": None,
            "decoder": byte_level,
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": None,
                "end_of_word_suffix": None,
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": dict(sorted(self.vocab.items(), key=lambda item: item[1])),
                "merges": [f"{a} {b}" for a, b in self.merges],
            },
        }

    def save(self, path):
        with open(path, "w", encoding="utf-8") as file:
            json.dump(self.to_tokenizer_json(), file, ensure_ascii=False, indent=1)

    @classmethod
    def load(cls, path):
        """Load a tokenizer.json written by save (merges as "a b" strings or [a, b] lists)."""
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in data["model"]["merges"]]
        specials = [t["content"] for t in data["added_tokens"] if t.get("special")]
        vocab = dict(data["model"]["vocab"])
        for token in data["added_tokens"]:
            vocab[token["content"]] = token["id"]
        return cls(vocab, merges, specials)

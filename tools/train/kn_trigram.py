"""Interpolated Kneser-Ney trigram model over token ids, as a perplexity baseline.

Each order n uses one absolute discount D_n = n1 / (n1 + 2 * n2) (Ney et al.), where n1 and
n2 are the numbers of n-grams seen once and twice. The two lower orders use continuation
counts (the number of distinct left contexts), and the unigram level is interpolated with
the uniform distribution over the vocabulary, so every token has a nonzero probability.
"""

import numpy as np


def _discount(counts):
    n1 = np.count_nonzero(counts == 1)
    n2 = np.count_nonzero(counts == 2)
    return n1 / (n1 + 2 * n2) if n1 + n2 > 0 else 0.5


class _Table:
    """Sorted integer keys with values, looked up in bulk with searchsorted."""

    def __init__(self, keys, values):
        order = np.argsort(keys)
        self.keys = keys[order]
        self.values = values[order]

    def get(self, queries):
        index = np.searchsorted(self.keys, queries)
        index = np.minimum(index, len(self.keys) - 1)
        found = self.keys[index] == queries
        return np.where(found, self.values[index], 0)


class KneserNeyTrigram:
    def __init__(self, tokens, vocab_size):
        tokens = np.asarray(tokens, dtype=np.int64)
        vocab = np.int64(vocab_size)
        self.vocab = vocab
        u, v, w = tokens[:-2], tokens[1:-1], tokens[2:]

        # highest order: c(u v w), c(u v .), N1+(u v .)
        trigram_keys, trigram_counts = np.unique((u * vocab + v) * vocab + w, return_counts=True)
        self.d3 = _discount(trigram_counts)
        self.trigram = _Table(trigram_keys, trigram_counts)
        context = trigram_keys // vocab
        context_keys, context_first = np.unique(context, return_index=True)
        self.context_total = _Table(context_keys, np.add.reduceat(trigram_counts, context_first))
        self.context_types = _Table(context_keys, np.diff(np.append(context_first, len(context))))

        # middle order with continuation counts: N1+(. v w), N1+(. v .), N1+(v .) among seen (v w)
        bigram_of_trigram = trigram_keys % (vocab * vocab)
        bigram_keys, bigram_continuations = np.unique(bigram_of_trigram, return_counts=True)
        self.d2 = _discount(bigram_continuations)
        self.bigram = _Table(bigram_keys, bigram_continuations)
        left = bigram_keys // vocab
        left_keys, left_first = np.unique(left, return_index=True)
        self.left_total = _Table(left_keys, np.add.reduceat(bigram_continuations, left_first))
        self.left_types = _Table(left_keys, np.diff(np.append(left_first, len(left))))

        # lowest order with continuation counts: N1+(. w) over seen bigrams
        unigram_continuations = np.bincount(bigram_keys % vocab, minlength=vocab_size).astype(np.float64)
        self.d1 = _discount(unigram_continuations[unigram_continuations > 0])
        total = unigram_continuations.sum()
        seen = np.count_nonzero(unigram_continuations)
        self.unigram = np.maximum(unigram_continuations - self.d1, 0) / total + self.d1 * seen / total / vocab_size

    def bigram_probability(self, v, w):
        p1 = self.unigram[w]
        total = self.left_total.get(v).astype(np.float64)
        count = self.bigram.get(v * self.vocab + w).astype(np.float64)
        types = self.left_types.get(v).astype(np.float64)
        safe = np.maximum(total, 1)
        interpolated = np.maximum(count - self.d2, 0) / safe + self.d2 * types / safe * p1
        return np.where(total > 0, interpolated, p1)

    def probability(self, u, v, w):
        """Return P(w | u v) for arrays of token ids; u = -1 means no second context token."""
        u = np.asarray(u, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        w = np.asarray(w, dtype=np.int64)
        p2 = self.bigram_probability(v, w)
        context = u * self.vocab + v
        total = np.where(u >= 0, self.context_total.get(context), 0).astype(np.float64)
        count = self.trigram.get(context * self.vocab + w).astype(np.float64)
        types = self.context_types.get(context).astype(np.float64)
        safe = np.maximum(total, 1)
        interpolated = np.maximum(count - self.d3, 0) / safe + self.d3 * types / safe * p2
        return np.where(total > 0, interpolated, p2)

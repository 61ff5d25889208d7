package io.sparsemesh.transport.tokenizer;

import java.util.Set;

/** What the tokenizer service serves: the model name, vocabulary size, BOS id (-1 when none) and EOS ids. */
public record TokenizerDescription(String model, int vocabSize, int bosId, Set<Integer> eosIds) {
}

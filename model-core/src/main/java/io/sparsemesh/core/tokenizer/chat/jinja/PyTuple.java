package io.sparsemesh.core.tokenizer.chat.jinja;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;

/** A Python tuple: an immutable list that prints with parentheses, such as the pairs {@code dict.items()} returns. */
final class PyTuple extends AbstractList<Object> {

    private final List<Object> items;

    PyTuple(List<?> items) {
        this.items = new ArrayList<>(items);
    }

    @Override
    public Object get(int index) {
        return items.get(index);
    }

    @Override
    public int size() {
        return items.size();
    }
}

package io.sparsemesh.core.tokenizer.chat.jinja;

import java.util.List;

/** The {@code loop} variable inside a for loop: position, length and neighbouring items. */
final class LoopInfo {

    private final List<Object> items;
    private int index0;

    LoopInfo(List<Object> items) {
        this.items = items;
    }

    void advance(int newIndex0) {
        index0 = newIndex0;
    }

    /** Returns the value of attribute {@code name}, or null when the loop has no such attribute. */
    Object attribute(String name, int line) {
        int length = items.size();
        return switch (name) {
            case "index" -> (long) index0 + 1;
            case "index0" -> (long) index0;
            case "revindex" -> (long) (length - index0);
            case "revindex0" -> (long) (length - index0 - 1);
            case "first" -> index0 == 0;
            case "last" -> index0 == length - 1;
            case "length" -> (long) length;
            case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("there is no previous item");
            case "nextitem" -> index0 < length - 1 ? items.get(index0 + 1) : new Undefined("there is no next item");
            case "cycle" -> (JinjaCallable) (arguments, keywords, callLine) -> {
                if (arguments.isEmpty()) {
                    throw new JinjaException("loop.cycle needs at least one value", callLine);
                }
                return arguments.get(index0 % arguments.size());
            };
            default -> null;
        };
    }
}

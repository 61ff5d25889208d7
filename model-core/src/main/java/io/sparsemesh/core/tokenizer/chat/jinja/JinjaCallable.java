package io.sparsemesh.core.tokenizer.chat.jinja;

import java.util.List;
import java.util.Map;

/** A function a template can call: a global such as {@code range}, a macro or a bound method of a value. */
@FunctionalInterface
public interface JinjaCallable {

    Object call(List<Object> arguments, Map<String, Object> keywords, int line);
}

package io.sparsemesh.core.tokenizer.chat.jinja;

import java.util.List;
import java.util.Map;

/**
 * A Jinja2 template, parsed once and rendered many times; immutable and safe to share between threads.
 *
 * <p>It implements the subset of Jinja2 that model chat templates use, with the settings of the
 * environment Hugging Face {@code transformers} renders them in ({@code trim_blocks},
 * {@code lstrip_blocks}, loop controls, read-only data): text, {@code {{ }}}, comments and whitespace
 * control; {@code if/elif/else}, {@code for} with {@code loop.*}, {@code else} and an {@code if} filter,
 * {@code break/continue}, {@code set} (also block and {@code ns.attr}), {@code macro}, {@code filter}
 * blocks and the {@code generation} block; Python literals, arithmetic, comparison chains, {@code in},
 * {@code and/or/not}, conditional expressions, slicing, the common {@code str} and {@code dict}
 * methods, and the filters and tests of {@link JinjaFilters} and {@link JinjaTests}. Template
 * inheritance, includes, {@code call} blocks and recursive loops are rejected when parsing.
 */
public final class JinjaTemplate {

    private final List<Node> body;

    private JinjaTemplate(List<Node> body) {
        this.body = body;
    }

    /**
     * Parses {@code source}.
     *
     * @throws JinjaException naming the line of the first syntax error, unknown filter, test or tag
     */
    public static JinjaTemplate parse(String source) {
        return new JinjaTemplate(JinjaParser.parse(source));
    }

    /**
     * Renders the template with {@code variables}; Java integers, floats, lists, maps and arrays are
     * seen as Python values, and {@link JinjaCallable}s as functions.
     *
     * @throws JinjaRaisedException when the template calls a {@code raise_exception} function it was given
     * @throws JinjaException when rendering fails, for example on an attribute of an undefined value
     */
    public String render(Map<String, ?> variables) {
        return JinjaRenderer.render(body, variables);
    }
}

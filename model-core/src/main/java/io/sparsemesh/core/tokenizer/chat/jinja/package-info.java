/**
 * A Jinja2 interpreter for model chat templates: {@link io.sparsemesh.core.tokenizer.chat.jinja.JinjaTemplate}
 * parses once and renders with Python semantics; {@code JinjaLexer}, {@code JinjaParser} and
 * {@code JinjaRenderer} are the three stages, {@code PyValues}, {@code PyMethods} and {@code PyJson} the
 * Python behaviour of values, and {@code JinjaFilters}, {@code JinjaTests} and {@code JinjaGlobals} the
 * built-ins.
 */
package io.sparsemesh.core.tokenizer.chat.jinja;

/**
 * Chat templates: how a conversation becomes the prompt text of a model.
 *
 * <ul>
 *   <li>{@link io.sparsemesh.core.tokenizer.chat.JinjaChatTemplate} renders the Jinja template a model
 *       ships ({@code chat_template} in {@code tokenizer_config.json}, {@code chat_template.jinja}, or
 *       {@code tokenizer.chat_template} in GGUF) as Hugging Face {@code apply_chat_template} does.</li>
 *   <li>{@link io.sparsemesh.core.tokenizer.chat.LastUserMessageTemplate} is the prompt of models
 *       without a template: the last user message.</li>
 *   <li>{@link io.sparsemesh.core.tokenizer.chat.ChatTemplates#open} picks one for a tokenizer path.</li>
 * </ul>
 *
 * <p>The templates run on the interpreter in {@code chat.jinja} rather than on a Java template engine
 * such as Jinjava ({@code com.hubspot.jinjava}). Chat templates are Jinja2 as Python evaluates it:
 * they call Python {@code str} and {@code dict} methods ({@code content.split('</think>')[-1].strip()},
 * {@code args.items()}), index from the end, slice with {@code [::-1]}, print {@code True} and
 * {@code None}, and depend on {@code trim_blocks}/{@code lstrip_blocks} and Hugging Face's
 * {@code tojson}. A Java engine resolves method calls on Java objects and formats values the Java
 * way, so each of these would need an adapter, and it would bring its own dependencies into
 * model-core. Hugging Face ({@code @huggingface/jinja}) and llama.cpp wrote small purpose-built
 * interpreters for the same reason. The tests compare the interpreter with Python Jinja2 on real
 * templates (Llama 2, ChatML, Qwen3, GLM-4.6, GLM-4.7, DeepSeek-V3.1 and R1).
 */
package io.sparsemesh.core.tokenizer.chat;

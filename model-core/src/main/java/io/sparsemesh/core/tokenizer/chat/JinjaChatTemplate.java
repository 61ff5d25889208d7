package io.sparsemesh.core.tokenizer.chat;

import io.sparsemesh.core.tokenizer.chat.jinja.JinjaCallable;
import io.sparsemesh.core.tokenizer.chat.jinja.JinjaException;
import io.sparsemesh.core.tokenizer.chat.jinja.JinjaRaisedException;
import io.sparsemesh.core.tokenizer.chat.jinja.JinjaTemplate;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A model's Jinja chat template, rendered as Hugging Face {@code apply_chat_template} renders it:
 * the variables are {@code messages} (dicts with {@code role} and {@code content}),
 * {@code add_generation_prompt}, the special-token strings ({@code bos_token}, {@code eos_token}, ...)
 * and the functions {@code raise_exception(message)} and {@code strftime_now(format)}.
 */
public final class JinjaChatTemplate implements ChatTemplate {

    private final JinjaTemplate template;
    private final Map<String, String> specialTokens;
    private final String description;

    /**
     * Parses {@code source}.
     *
     * @param specialTokens template variables such as {@code bos_token -> "<s>"}; tokens the model
     *     does not have are left out, so the template sees them as undefined
     * @param description where the template came from, for logs
     * @throws ChatTemplateException naming the line of a syntax error or an unsupported construct
     */
    public JinjaChatTemplate(String source, Map<String, String> specialTokens, String description) {
        try {
            this.template = JinjaTemplate.parse(source);
        } catch (JinjaException e) {
            throw new ChatTemplateException("the chat template of " + description + " cannot be parsed: "
                    + e.getMessage(), e);
        }
        this.specialTokens = Map.copyOf(specialTokens);
        this.description = description;
    }

    @Override
    public String render(List<ChatMessage> messages, GenerationPrompt generationPrompt) {
        return render(messages, generationPrompt, Map.of());
    }

    /**
     * Renders with extra template variables, such as {@code tools} or {@code enable_thinking}, which
     * Hugging Face passes through from {@code apply_chat_template}'s keyword arguments.
     */
    public String render(List<ChatMessage> messages, GenerationPrompt generationPrompt, Map<String, ?> extraVariables) {
        if (messages.isEmpty()) {
            throw new ChatTemplateException("the conversation is empty; send at least one message");
        }
        List<Map<String, Object>> messageDicts = new ArrayList<>(messages.size());
        for (ChatMessage message : messages) {
            Map<String, Object> dict = new LinkedHashMap<>();
            dict.put("role", message.role());
            dict.put("content", message.content());
            messageDicts.add(dict);
        }
        Map<String, Object> variables = new HashMap<>(specialTokens);
        variables.put("raise_exception", (JinjaCallable) JinjaChatTemplate::raiseException);
        variables.put("strftime_now", (JinjaCallable) JinjaChatTemplate::strftimeNow);
        variables.putAll(extraVariables);
        variables.put("messages", messageDicts);
        variables.put("add_generation_prompt", generationPrompt == GenerationPrompt.ADD);
        try {
            return template.render(variables);
        } catch (JinjaRaisedException e) {
            throw new ChatTemplateException("the chat template rejected the conversation: " + e.templateMessage(), e);
        } catch (JinjaException e) {
            throw new ChatTemplateException("the chat template of " + description + " failed to render the conversation: "
                    + e.getMessage(), e);
        }
    }

    private static Object raiseException(List<Object> arguments, Map<String, Object> keywords, int line) {
        String message = arguments.isEmpty() ? "raise_exception was called" : String.valueOf(arguments.getFirst());
        throw new JinjaRaisedException(message, line);
    }

    private static Object strftimeNow(List<Object> arguments, Map<String, Object> keywords, int line) {
        if (arguments.isEmpty() || !(arguments.getFirst() instanceof String format)) {
            throw new JinjaException("strftime_now needs a format string", line);
        }
        return strftime(LocalDateTime.now(), format);
    }

    /** Python's {@code strftime} for the common directives; other directives are copied as they are. */
    static String strftime(LocalDateTime time, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                out.append(c);
                continue;
            }
            char directive = format.charAt(++i);
            String pattern = switch (directive) {
                case 'Y' -> "yyyy";
                case 'y' -> "yy";
                case 'm' -> "MM";
                case 'd' -> "dd";
                case 'H' -> "HH";
                case 'I' -> "hh";
                case 'M' -> "mm";
                case 'S' -> "ss";
                case 'p' -> "a";
                case 'b' -> "MMM";
                case 'B' -> "MMMM";
                case 'a' -> "EEE";
                case 'A' -> "EEEE";
                case 'j' -> "DDD";
                default -> null;
            };
            if (directive == '%') {
                out.append('%');
            } else if (pattern == null) {
                out.append('%').append(directive);
            } else {
                out.append(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(time));
            }
        }
        return out.toString();
    }

    @Override
    public boolean rendersSpecialTokens() {
        return true;
    }

    @Override
    public String description() {
        return description;
    }
}

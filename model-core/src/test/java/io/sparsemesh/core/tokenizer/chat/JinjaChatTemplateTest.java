package io.sparsemesh.core.tokenizer.chat;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Renders real chat templates (see {@code chat-templates/SOURCES.md}) and compares with the output
 * of Python Jinja2 3.1.6 in Hugging Face's environment, which {@code chat-templates/render_reference.py}
 * printed; the conversations here are the ones that script renders.
 */
class JinjaChatTemplateTest {

    private static final String LLAMA2_CONVERSATION = "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s><s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another question [/INST]";
    private static final String LLAMA2_NO_SYSTEM = "<s>[INST] Hello [/INST] Hi there </s><s>[INST] Grüße, 世界 😀 [/INST]";
    private static final String CHATML_CONVERSATION = "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n";
    private static final String CHATML_NO_PROMPT = "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nGrüße, 世界 😀<|im_end|>\n";
    private static final String QWEN3_CONVERSATION = "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n";
    private static final String QWEN3_THINKING = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\nIt is 4.<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n<think>\nAgain.\n</think>\n\n6<|im_end|>\n";
    private static final String QWEN3_NO_THINKING = "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nGrüße, 世界 😀<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
    private static final String QWEN3_TOOLS = "<|im_start|>system\nYou are a helpful assistant\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Wetter für eine Stadt\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}, \"days\": {\"type\": \"integer\"}}, \"required\": [\"city\"]}}}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n";
    private static final String GLM46_CONVERSATION = "[gMASK]<sop><|system|>\nYou are a helpful assistant<|user|>\nHello<|assistant|>\n<think></think>\nHi there<|user|>\nWho are you<|assistant|>\n<think></think>\nI am an assistant<|user|>\nAnother question<|assistant|>";
    private static final String GLM46_NO_THINKING = "[gMASK]<sop><|user|>\nHello/nothink<|assistant|>\n<think></think>\nHi there<|user|>\nGrüße, 世界 😀/nothink<|assistant|>\n<think></think>";
    private static final String GLM46_TOOLS = "[gMASK]<sop><|system|>\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Wetter für eine Stadt\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}, \"days\": {\"type\": \"integer\"}}, \"required\": [\"city\"]}}}\n</tools>\n\nFor each function call, output the function name and arguments within the following XML format:\n<tool_call>{function-name}\n<arg_key>{arg-key-1}</arg_key>\n<arg_value>{arg-value-1}</arg_value>\n<arg_key>{arg-key-2}</arg_key>\n<arg_value>{arg-value-2}</arg_value>\n...\n</tool_call><|user|>\nWhat is 2+2?<|assistant|>\n<think></think>\nIt is 4.<|user|>\nAnd 3+3?<|assistant|>\n<think>Again.</think>\n6<|assistant|>";
    private static final String GLM47_CONVERSATION = "[gMASK]<sop><|system|>You are a helpful assistant<|user|>Hello<|assistant|></think>Hi there<|user|>Who are you<|assistant|></think>I am an assistant<|user|>Another question<|assistant|><think>";
    private static final String GLM47_THINKING = "[gMASK]<sop><|user|>What is 2+2?<|assistant|></think>It is 4.<|user|>And 3+3?<|assistant|><think>Again.</think>6<|assistant|><think>";
    private static final String GLM47_CLEAR_THINKING_OFF = "[gMASK]<sop><|user|>What is 2+2?<|assistant|><think>Add them.</think>It is 4.<|user|>And 3+3?<|assistant|><think>Again.</think>6";
    private static final String DEEPSEEK_V31_CONVERSATION = "<｜begin▁of▁sentence｜>You are a helpful assistant<｜User｜>Hello<｜Assistant｜></think>Hi there<｜end▁of▁sentence｜><｜User｜>Who are you<｜Assistant｜></think>   I am an assistant   <｜end▁of▁sentence｜><｜User｜>Another question<｜Assistant｜></think>";
    private static final String DEEPSEEK_V31_THINKING = "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜></think>\n\nIt is 4.<｜end▁of▁sentence｜><｜User｜>And 3+3?<｜Assistant｜></think>\n\n6<｜end▁of▁sentence｜><｜User｜>Bye<｜Assistant｜><think>";
    private static final String DEEPSEEK_R1_CONVERSATION = "<｜begin▁of▁sentence｜>A\n\nB<｜User｜>Hello<｜Assistant｜>Hi there<｜end▁of▁sentence｜><｜User｜>Grüße, 世界 😀<｜Assistant｜><think>\n";
    private static final String DEEPSEEK_R1_THINKING = "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜>\n\nIt is 4.<｜end▁of▁sentence｜><｜User｜>And 3+3?<｜Assistant｜>\n\n6<｜end▁of▁sentence｜>";

    private static final List<ChatMessage> CONVERSATION = List.of(
            new ChatMessage("system", "You are a helpful assistant"), new ChatMessage("user", "Hello"),
            new ChatMessage("assistant", "Hi there"), new ChatMessage("user", "Who are you"),
            new ChatMessage("assistant", "   I am an assistant   "), new ChatMessage("user", "Another question"));
    private static final List<ChatMessage> NO_SYSTEM = List.of(
            new ChatMessage("user", "Hello"), new ChatMessage("assistant", "Hi there"),
            new ChatMessage("user", "Grüße, 世界 😀"));
    private static final List<ChatMessage> THINKING = List.of(
            new ChatMessage("user", "What is 2+2?"), new ChatMessage("assistant", "<think>\nAdd them.\n</think>\n\nIt is 4."),
            new ChatMessage("user", "And 3+3?"), new ChatMessage("assistant", "<think>\nAgain.\n</think>\n\n6"));
    private static final List<Object> TOOLS = List.of(ordered(
            "type", "function",
            "function", ordered(
                    "name", "get_weather",
                    "description", "Wetter für eine Stadt",
                    "parameters", ordered(
                            "type", "object",
                            "properties", ordered("city", Map.of("type", "string"), "days", Map.of("type", "integer")),
                            "required", List.of("city")))));

    private static final Map<String, String> LLAMA = Map.of("bos_token", "<s>", "eos_token", "</s>");
    private static final Map<String, String> DEEPSEEK = Map.of(
            "bos_token", "<｜begin▁of▁sentence｜>", "eos_token", "<｜end▁of▁sentence｜>");
    private static final Map<String, String> QWEN = Map.of("eos_token", "<|im_end|>");
    private static final Map<String, String> GLM = Map.of("eos_token", "<|endoftext|>");

    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> map = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    private static JinjaChatTemplate template(String file, Map<String, String> specialTokens) {
        try (InputStream in = JinjaChatTemplateTest.class.getResourceAsStream("/chat-templates/" + file)) {
            return new JinjaChatTemplate(new String(in.readAllBytes(), StandardCharsets.UTF_8), specialTokens, file);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read test template " + file, e);
        }
    }

    @Test
    void llama2RendersSystemIntoFirstTurn() {
        JinjaChatTemplate llama2 = template("llama-2-chat.jinja", LLAMA);
        assertEquals(LLAMA2_CONVERSATION, llama2.render(CONVERSATION, GenerationPrompt.ADD));
        assertEquals(LLAMA2_NO_SYSTEM, llama2.render(NO_SYSTEM, GenerationPrompt.ADD));
    }

    @Test
    void llama2RejectsRolesThatDoNotAlternate() {
        JinjaChatTemplate llama2 = template("llama-2-chat.jinja", LLAMA);
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> llama2.render(
                List.of(new ChatMessage("user", "a"), new ChatMessage("user", "b")), GenerationPrompt.ADD));
        assertTrue(e.getMessage().contains("Conversation roles must alternate user/assistant/user/assistant/..."),
                e.getMessage());
    }

    @Test
    void chatmlRendersEveryTurn() {
        JinjaChatTemplate chatml = template("chatml.jinja", Map.of());
        assertEquals(CHATML_CONVERSATION, chatml.render(CONVERSATION, GenerationPrompt.ADD));
        assertEquals(CHATML_NO_PROMPT, chatml.render(NO_SYSTEM, GenerationPrompt.OMIT));
    }

    @Test
    void qwen3MatchesJinja2() {
        JinjaChatTemplate qwen3 = template("qwen3.jinja", QWEN);
        assertEquals(QWEN3_CONVERSATION, qwen3.render(CONVERSATION, GenerationPrompt.ADD));
        assertEquals(QWEN3_THINKING, qwen3.render(THINKING, GenerationPrompt.OMIT));
        assertEquals(QWEN3_NO_THINKING, qwen3.render(NO_SYSTEM, GenerationPrompt.ADD, Map.of("enable_thinking", false)));
        assertEquals(QWEN3_TOOLS, qwen3.render(CONVERSATION.subList(0, 2), GenerationPrompt.ADD, Map.of("tools", TOOLS)));
    }

    @Test
    void glm46MatchesJinja2() {
        JinjaChatTemplate glm = template("glm-4.6.jinja", GLM);
        assertEquals(GLM46_CONVERSATION, glm.render(CONVERSATION, GenerationPrompt.ADD));
        assertEquals(GLM46_NO_THINKING, glm.render(NO_SYSTEM, GenerationPrompt.ADD, Map.of("enable_thinking", false)));
        assertEquals(GLM46_TOOLS, glm.render(THINKING, GenerationPrompt.ADD, Map.of("tools", TOOLS)));
    }

    @Test
    void glm47MatchesJinja2() {
        JinjaChatTemplate glm = template("glm-4.7.jinja", GLM);
        assertEquals(GLM47_CONVERSATION, glm.render(CONVERSATION, GenerationPrompt.ADD));
        assertEquals(GLM47_THINKING, glm.render(THINKING, GenerationPrompt.ADD));
        assertEquals(GLM47_CLEAR_THINKING_OFF, glm.render(THINKING, GenerationPrompt.OMIT, Map.of("clear_thinking", false)));
    }

    @Test
    void deepseekV31MatchesJinja2() {
        JinjaChatTemplate deepseek = template("deepseek-v3.1.jinja", DEEPSEEK);
        assertEquals(DEEPSEEK_V31_CONVERSATION, deepseek.render(CONVERSATION, GenerationPrompt.ADD));
        List<ChatMessage> thinkingThenBye = new java.util.ArrayList<>(THINKING);
        thinkingThenBye.add(new ChatMessage("user", "Bye"));
        assertEquals(DEEPSEEK_V31_THINKING, deepseek.render(thinkingThenBye, GenerationPrompt.ADD, Map.of("thinking", true)));
    }

    @Test
    void deepseekR1MatchesJinja2() {
        JinjaChatTemplate deepseek = template("deepseek-r1.jinja", DEEPSEEK);
        List<ChatMessage> twoSystems = new java.util.ArrayList<>(List.of(
                new ChatMessage("system", "A"), new ChatMessage("system", "B")));
        twoSystems.addAll(NO_SYSTEM);
        assertEquals(DEEPSEEK_R1_CONVERSATION, deepseek.render(twoSystems, GenerationPrompt.ADD));
        assertEquals(DEEPSEEK_R1_THINKING, deepseek.render(THINKING, GenerationPrompt.OMIT));
    }

    @Test
    void emptyConversationIsRejected() {
        JinjaChatTemplate chatml = template("chatml.jinja", Map.of());
        assertThrows(ChatTemplateException.class, () -> chatml.render(List.of(), GenerationPrompt.ADD));
    }

    @Test
    void syntaxErrorNamesLine() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> new JinjaChatTemplate("line one\n{% if x %}\n{{ y | nosuchfilter }}\n{% endif %}", Map.of(), "test"));
        assertTrue(e.getMessage().contains("unknown filter 'nosuchfilter'"), e.getMessage());
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
    }

    @Test
    void strftimeFormatsPythonDirectives() {
        assertEquals("05 Mar 2024, 14:07:09 %",
                JinjaChatTemplate.strftime(java.time.LocalDateTime.of(2024, 3, 5, 14, 7, 9), "%d %b %Y, %H:%M:%S %%"));
    }
}

package io.sparsemesh.core.tokenizer.chat;

import io.sparsemesh.core.TestData;
import io.sparsemesh.core.checkpoint.CheckpointException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Finding a model's template in tokenizer files, and the fallback for models without one. */
class ChatTemplatesTest {

    private static final List<ChatMessage> CHAT = List.of(
            new ChatMessage("system", "Be brief."), new ChatMessage("user", "Once upon a time"),
            new ChatMessage("assistant", "there was"), new ChatMessage("user", "a little dog"));

    private static final String CHATML_JSON = "{% for m in messages %}<|im_start|>{{ m.role }}\\n{{ m.content }}<|im_end|>\\n"
            + "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\\n{% endif %}";

    @Test
    void tokenizerConfigTemplateWithSpecialTokens(@TempDir Path folder) throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), """
                {"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>",
                 "chat_template": "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}"}
                """);
        ChatTemplate template = ChatTemplates.open(folder);
        assertInstanceOf(JinjaChatTemplate.class, template);
        assertTrue(template.rendersSpecialTokens());
        assertEquals("<s>[user] hi</s>", template.render(List.of(new ChatMessage("user", "hi")), GenerationPrompt.ADD));
    }

    @Test
    void tokenizerJsonPathFindsFolder(@TempDir Path folder) throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"chat_template\": \"" + CHATML_JSON + "\"}");
        ChatTemplate template = ChatTemplates.open(folder.resolve("tokenizer.json"));
        assertEquals("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
                template.render(List.of(new ChatMessage("user", "hi")), GenerationPrompt.ADD));
    }

    @Test
    void namedTemplatesUseDefault(@TempDir Path folder) throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), """
                {"chat_template": [{"name": "tool_use", "template": "TOOLS"}, {"name": "default", "template": "DEFAULT"}]}
                """);
        assertEquals("DEFAULT", ChatTemplates.open(folder).render(CHAT, GenerationPrompt.ADD));
    }

    @Test
    void namedTemplatesWithoutDefaultFail(@TempDir Path folder) throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), """
                {"chat_template": [{"name": "tool_use", "template": "TOOLS"}]}
                """);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ChatTemplates.open(folder));
        assertTrue(e.getMessage().contains("default"), e.getMessage());
    }

    @Test
    void chatTemplateJinjaFileWins(@TempDir Path folder) throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"chat_template\": \"FROM CONFIG\", \"eos_token\": \"<e>\"}");
        Files.writeString(folder.resolve("chat_template.jinja"), "FROM FILE {{ eos_token }}\n");
        assertEquals("FROM FILE <e>", ChatTemplates.open(folder).render(CHAT, GenerationPrompt.ADD));
    }

    @Test
    void brokenTemplateFailsWhenOpened(@TempDir Path folder) throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"chat_template\": \"{% for m in messages %}\"}");
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> ChatTemplates.open(folder));
        assertTrue(e.getMessage().contains("tokenizer_config.json"), e.getMessage());
    }

    @Test
    void folderWithoutTemplateFallsBack(@TempDir Path folder) throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\"}");
        assertInstanceOf(LastUserMessageTemplate.class, ChatTemplates.open(folder));
    }

    @Test
    void stories260kHasNoTemplate() {
        for (Path path : List.of(TestData.storiesGguf(), TestData.storiesTokenizerBin(), TestData.storiesTokenizerModel())) {
            ChatTemplate template = ChatTemplates.open(path);
            assertInstanceOf(LastUserMessageTemplate.class, template, path.toString());
            assertFalse(template.rendersSpecialTokens());
        }
    }

    @Test
    void fallbackUsesLastUserMessage() {
        LastUserMessageTemplate template = new LastUserMessageTemplate();
        assertEquals("a little dog", template.render(CHAT, GenerationPrompt.ADD));
        assertEquals("a little dog", template.render(CHAT, GenerationPrompt.OMIT));
        assertEquals(3, template.droppedMessages(CHAT));
    }

    @Test
    void fallbackRejectsConversationWithoutUser() {
        LastUserMessageTemplate template = new LastUserMessageTemplate();
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> template.render(List.of(new ChatMessage("system", "x")), GenerationPrompt.ADD));
        assertTrue(e.getMessage().contains("no message with role 'user'"), e.getMessage());
    }
}

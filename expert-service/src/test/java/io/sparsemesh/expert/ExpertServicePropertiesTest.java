package io.sparsemesh.expert;

import io.sparsemesh.core.moe.ExpertShard.DensePlacement;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExpertServicePropertiesTest {

    @Test
    void shardMustBeBelowShardCount() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new ExpertServiceProperties(Path.of("model.gguf"), 2, 2, DensePlacement.SHARDS, 4096));
        assertTrue(error.getMessage().contains("sparsemesh.expert.shard (2) must be below sparsemesh.expert.shard-count (2)"),
                error.getMessage());
        assertEquals(1, new ExpertServiceProperties(Path.of("model.gguf"), 1, 2, DensePlacement.SHARDS, 4096).shard());
    }

    @Test
    void residentMemoryParsesKiB() {
        assertEquals(123456, ResidentMemory.parseKiB("   123456 kB"));
        assertThrows(IllegalArgumentException.class, () -> ResidentMemory.parseKiB("12 MB"));
        assertTrue(ResidentMemory.bytes() > 1 << 20, "this JVM's resident set is over 1 MiB");
    }
}

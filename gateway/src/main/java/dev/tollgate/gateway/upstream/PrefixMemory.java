package dev.tollgate.gateway.upstream;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The prompt-prefix blocks an endpoint was last sent, as a stand-in for what its KV cache holds
 * (ADR 0024): at most {@code capacity} block hashes, least recently used forgotten first. Block hashes
 * are chained (each covers every character before it), so a hit on block i means the whole prefix up
 * to it was sent here. Guarded by its own monitor: every event loop routes through it.
 */
final class PrefixMemory {
    private final LinkedHashMap<Long, Boolean> blocks;

    PrefixMemory(int capacity) {
        this.blocks = new LinkedHashMap<>(Math.min(capacity, 1 << 16), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    /** How many leading blocks of {@code prefix} this endpoint was sent. */
    synchronized int matched(long[] prefix) {
        int matched = 0;
        while (matched < prefix.length && blocks.containsKey(prefix[matched])) {
            matched++;
        }
        return matched;
    }

    /** Remembers that {@code prefix} was sent here. */
    synchronized void remember(long[] prefix) {
        for (long block : prefix) {
            blocks.put(block, Boolean.TRUE);
        }
    }
}

package dev.tollgate.testkit.upstream;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model server's prefix cache, simulated for routing benchmarks: the prompt is cut into blocks of
 * {@value #BLOCK_CHARS} characters, each hashed with everything before it; the server remembers the
 * last {@code capacity} blocks it computed (least recently used forgotten first). A prompt's hit is its
 * longest run of leading blocks already remembered: the fake then answers the first token that much
 * sooner and reports that share of the prompt as {@code cached_tokens}, as vLLM's automatic prefix
 * caching does. Touched only on the fake's event loop.
 */
final class FakePrefixCache {
    static final int BLOCK_CHARS = 64;

    private final LinkedHashMap<Long, Boolean> blocks;
    private long queriedBlocks;
    private long hitBlocks;

    FakePrefixCache(int capacity) {
        this.blocks = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Looks {@code prompt} up and remembers its blocks; returns the share of the prompt that was cached (0 to 1). */
    synchronized double lookUp(String prompt) {
        int whole = prompt.length() / BLOCK_CHARS;
        if (whole == 0) {
            return 0;
        }
        long hash = 1_469_598_103_934_665_603L;
        int hits = 0;
        boolean hitting = true;
        for (int block = 0; block < whole; block++) {
            for (int i = block * BLOCK_CHARS; i < (block + 1) * BLOCK_CHARS; i++) {
                hash = (hash ^ prompt.charAt(i)) * 1_099_511_628_211L;
            }
            if (hitting && blocks.containsKey(hash)) {
                hits++;
            } else {
                hitting = false;
            }
            blocks.put(hash, Boolean.TRUE);
        }
        queriedBlocks += whole;
        hitBlocks += hits;
        return (double) hits * BLOCK_CHARS / prompt.length();
    }

    synchronized long queriedBlocks() {
        return queriedBlocks;
    }

    synchronized long hitBlocks() {
        return hitBlocks;
    }
}

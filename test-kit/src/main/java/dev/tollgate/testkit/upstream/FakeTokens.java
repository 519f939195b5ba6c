package dev.tollgate.testkit.upstream;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * The fake model's deterministic "tokenizer" and "generator": the same prompt always yields the same
 * tokens, so tests can assert exact counts. A token is a word or a single punctuation mark.
 */
public final class FakeTokens {
    private static final String[] VOCABULARY = {
        "The", " gateway", " meters", " every", " token", " and", " each", " request", ",", " while",
        " the", " ledger", " keeps", " prices", " in", " micro", "-units", ".", " Kafka", " carries",
        " usage", " events", " to", " a", " projector", " that", " closes", " billing", " windows", " on",
        " time", "!", " Quotas", " hold", " across", " replicas", " so", " no", " tenant", " spends",
        " another", "'s", " budget", " GPUs", " stream", " answers", " back", " quickly"
    };

    private FakeTokens() {}

    /** Tokens in {@code text}: words and punctuation marks, as this fake counts them. */
    public static int count(String text) {
        if (text == null || text.isEmpty()) {
            return 0;
        }
        int tokens = 0;
        boolean inWord = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isLetterOrDigit(c)) {
                if (!inWord) {
                    tokens++;
                    inWord = true;
                }
            } else {
                inWord = false;
                if (!Character.isWhitespace(c)) {
                    tokens++;
                }
            }
        }
        return tokens;
    }

    /** The {@code index}-th generated token for a prompt. */
    public static String token(String model, String prompt, int index) {
        var crc = new CRC32();
        crc.update((model + "\u0000" + prompt).getBytes(StandardCharsets.UTF_8));
        long seed = crc.getValue();
        return VOCABULARY[(int) Math.floorMod(seed + 31L * index, (long) VOCABULARY.length)];
    }

    /** A deterministic unit-ish embedding of {@code dimensions} floats for {@code text}. */
    public static double[] embedding(String text, int dimensions) {
        var vector = new double[dimensions];
        var crc = new CRC32();
        crc.update(text.getBytes(StandardCharsets.UTF_8));
        long seed = crc.getValue();
        for (int i = 0; i < dimensions; i++) {
            seed = seed * 6364136223846793005L + 1442695040888963407L;
            vector[i] = ((seed >>> 11) % 2000) / 1000.0 - 1.0;
        }
        return vector;
    }
}

package dev.tollgate.gateway.metering;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whatever a model server streams, cut into whatever TCP reads: the scanner yields the same events
 * whether the bytes come at once or in pieces, refuses only an event over its limit, and the meter
 * never throws and never reports negative or inconsistent token counts (a hostile upstream must not
 * break metering or bill nonsense), and it reads every chunk exactly as the tree-based reader it
 * replaced ({@link TreeStreamMeter}).
 */
class SseMeteringFuzzTest {
    private static final int MAX_EVENT_BYTES = 2048;

    @FuzzTest(maxDuration = "20s")
    void scanningIsIndependentOfReadBoundariesAndMeteringNeverBreaks(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int readSize = (input[0] & 0xff) + 1; // the first byte: how many bytes each read delivers (1 to 256)
        byte[] stream = Arrays.copyOfRange(input, 1, input.length);

        List<String> whole = new ArrayList<>();
        List<byte[]> wholeBytes = new ArrayList<>();
        boolean wholeTooLarge = scan(stream, new int[0], whole, wholeBytes);
        int[] cuts = new int[stream.length / readSize];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = (i + 1) * readSize;
        }
        List<String> split = new ArrayList<>();
        boolean splitTooLarge = scan(stream, cuts, split, new ArrayList<>());
        assertThat(splitTooLarge).isEqualTo(wholeTooLarge);
        assertThat(split).isEqualTo(whole);

        StreamMeter meter = new StreamMeter(); // fed bytes, as the gateway feeds it: one parser reads the whole stream
        TreeStreamMeter reference = new TreeStreamMeter(); // the tree-based reader it replaced: the same answers after every event
        for (int i = 0; i < whole.size(); i++) {
            meter.onData(wholeBytes.get(i), 0, wholeBytes.get(i).length);
            reference.onData(whole.get(i));
            assertThat(meter.contentChunks()).as("content chunks after event %d", i).isEqualTo(reference.contentChunks());
            assertThat(meter.reasoningChunks()).as("reasoning chunks after event %d", i).isEqualTo(reference.reasoningChunks());
            assertThat(meter.malformedEvents()).as("malformed events after event %d", i).isEqualTo(reference.malformedEvents());
            assertThat(meter.upstreamUsage()).as("usage after event %d", i).isEqualTo(reference.upstreamUsage());
            assertThat(meter.sawUsageOnlyChunk()).as("usage-only chunk after event %d", i).isEqualTo(reference.sawUsageOnlyChunk());
            assertThat(meter.done()).as("[DONE] after event %d", i).isEqualTo(reference.done());
        }
        assertThat(meter.contentChunks()).isNotNegative();
        assertThat(meter.malformedEvents()).isNotNegative();
        meter.upstreamUsage().ifPresent(usage -> {
            assertThat(usage.promptTokens()).isNotNegative();
            assertThat(usage.completionTokens()).isNotNegative();
            assertThat(usage.cachedPromptTokens()).isBetween(0L, usage.promptTokens());
        });
    }

    /** Feeds {@code stream} cut at {@code cuts}, collecting each event's data as text and as bytes; true if it stopped at an oversized event. */
    private static boolean scan(byte[] stream, int[] cuts, List<String> events, List<byte[]> eventBytes) {
        var scanner = new SseScanner(MAX_EVENT_BYTES, (data, offset, length, start, end) -> {
            events.add(new String(data, offset, length, StandardCharsets.UTF_8));
            eventBytes.add(Arrays.copyOfRange(data, offset, offset + length));
        });
        int from = 0;
        try {
            for (int cut : cuts) {
                scanner.feed(stream, from, cut - from);
                from = cut;
            }
            scanner.feed(stream, from, stream.length - from);
            return false;
        } catch (SseScanner.EventTooLargeException e) {
            return true;
        }
    }
}

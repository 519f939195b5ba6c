package dev.tollgate.gateway.metering;

import dev.tollgate.gateway.metering.TerminalUsage.PromptSize;
import dev.tollgate.schemas.usage.TokenUsage;
import org.junit.jupiter.api.Test;

import static dev.tollgate.schemas.event.EventType.USAGE_REQUEST_CANCELLED;
import static dev.tollgate.schemas.event.EventType.USAGE_REQUEST_COMPLETED;
import static dev.tollgate.schemas.event.EventType.USAGE_REQUEST_FAILED;
import static org.assertj.core.api.Assertions.assertThat;

/** Which outcomes bill what (ADR 0018). */
class TerminalUsageTest {
    private static final TokenUsage SERVER = new TokenUsage(1_000, 40, 200);

    @Test
    void aFailureBeforeAnyOutputBillsNothingEvenWithTheServersCounts() {
        assertThat(TerminalUsage.of(USAGE_REQUEST_FAILED, null, 0, 0, new PromptSize(500, 2000), false, false)).isEqualTo(TokenUsage.ZERO);
        assertThat(TerminalUsage.of(USAGE_REQUEST_FAILED, null, 0, 0, new PromptSize(500, 2000), true, false)).isEqualTo(TokenUsage.ZERO);
        assertThat(TerminalUsage.of(USAGE_REQUEST_FAILED, SERVER, 0, 0, new PromptSize(500, 2000), false, false)).isEqualTo(TokenUsage.ZERO);
    }

    @Test
    void aFailureAfterOutputBillsThePromptAndWhatWasDeliveredOrReported() {
        assertThat(TerminalUsage.of(USAGE_REQUEST_FAILED, null, 7, 0, new PromptSize(500, 2000), true, false)).isEqualTo(new TokenUsage(500, 7, 0));
        assertThat(TerminalUsage.of(USAGE_REQUEST_FAILED, null, 0, 64, new PromptSize(500, 2000), true, false)).isEqualTo(new TokenUsage(500, 64, 0));
    }

    @Test
    void aCancelledStreamBillsThePromptAndNeverLessThanWasReported() {
        assertThat(TerminalUsage.of(USAGE_REQUEST_CANCELLED, null, 5, 64, new PromptSize(300, 1200), true, false)).isEqualTo(new TokenUsage(300, 64, 0));
        assertThat(TerminalUsage.of(USAGE_REQUEST_CANCELLED, SERVER, 5, 0, new PromptSize(300, 1200), true, false)).isEqualTo(SERVER);
    }

    /** ADR 0022: hanging up never bills less than reading on would have. */
    @Test
    void aClientThatHungUpPaysTheServersPromptCountOrElseTheCeiling() {
        assertThat(TerminalUsage.of(USAGE_REQUEST_CANCELLED, null, 5, 0, new PromptSize(300, 1200), true, true))
                .isEqualTo(new TokenUsage(1200, 5, 0));
        assertThat(TerminalUsage.of(USAGE_REQUEST_CANCELLED, SERVER, 5, 0, new PromptSize(300, 1200), true, true)).isEqualTo(SERVER);
        assertThat(TerminalUsage.of(USAGE_REQUEST_CANCELLED, null, 0, 0, new PromptSize(300, 1200), false, true))
                .as("hung up before the first byte: the prompt was sent to the server").isEqualTo(new TokenUsage(1200, 0, 0));
    }

    @Test
    void aCompletedAnswerBillsTheServersCountsOrWhatCanBeCountedButNeverAGuess() {
        assertThat(TerminalUsage.of(USAGE_REQUEST_COMPLETED, SERVER, 40, 0, new PromptSize(300, 1200), true, false)).isEqualTo(SERVER);
        assertThat(TerminalUsage.of(USAGE_REQUEST_COMPLETED, null, 12, 0, new PromptSize(300, 1200), true, false)).isEqualTo(new TokenUsage(300, 12, 0));
        assertThat(TerminalUsage.of(USAGE_REQUEST_COMPLETED, null, 0, 0, new PromptSize(300, 1200), false, false)).isEqualTo(new TokenUsage(300, 0, 0));
    }

    /** ADR 0030: the server's details pass into the terminal event; the documents are the request's. */
    @Test
    void theServersDetailsAndTheRequestsDocumentsAreBilled() {
        var detailed = new TokenUsage(1_000, 40, 200, 300, 25, 0, 0);
        assertThat(TerminalUsage.of(USAGE_REQUEST_COMPLETED, detailed, 40, 0, new PromptSize(300, 1200), true, false)).isEqualTo(detailed);
        assertThat(TerminalUsage.of(USAGE_REQUEST_CANCELLED, detailed, 5, 64, new PromptSize(300, 1200), true, false))
                .as("more delivered than the server counted").isEqualTo(new TokenUsage(1_000, 64, 200, 300, 25, 0, 0));
        assertThat(TerminalUsage.of(USAGE_REQUEST_COMPLETED, new TokenUsage(42, 0, 0), 0, 0, new PromptSize(30, 120, 3), false, false))
                .isEqualTo(new TokenUsage(42, 0, 0, 0, 0, 0, 3));
        assertThat(TerminalUsage.of(USAGE_REQUEST_FAILED, null, 0, 0, new PromptSize(30, 120, 3), false, false)).isEqualTo(TokenUsage.ZERO);
    }

    /** ADR 0030: without the server's counts, the reasoning chunks delivered are the reasoning billed. */
    @Test
    void aCutReasoningStreamBillsTheThinkingItDelivered() {
        assertThat(TerminalUsage.of(USAGE_REQUEST_CANCELLED, null, 12, 9, 0, new PromptSize(300, 1200), true, true))
                .isEqualTo(new TokenUsage(1200, 12, 0, 0, 9, 0, 0));
        assertThat(TerminalUsage.of(USAGE_REQUEST_COMPLETED, null, 0, 0, 0, new PromptSize(300, 1200), false, false))
                .isEqualTo(new TokenUsage(300, 0, 0));
    }
}

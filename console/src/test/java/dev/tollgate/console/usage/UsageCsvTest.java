package dev.tollgate.console.usage;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class UsageCsvTest {

    @Test
    void oneLinePerBucketAfterTheHeader() {
        String csv = UsageCsv.of(List.of(new UsageSummary.Bucket("2026-12-03", "k1", "fake-chat", 10, 2, 5, 15, 1, 42)));
        assertThat(csv).isEqualTo(UsageCsv.HEADER + "2026-12-03,k1,fake-chat,10,2,5,15,1,42\r\n");
    }

    @Test
    void cellsAreQuotedAndFormulasDefused() {
        assertThat(UsageCsv.cell("a,b")).isEqualTo("\"a,b\"");
        assertThat(UsageCsv.cell("say \"hi\"")).isEqualTo("\"say \"\"hi\"\"\"");
        assertThat(UsageCsv.cell("=HYPERLINK(1)")).isEqualTo("\"'=HYPERLINK(1)\"");
        assertThat(UsageCsv.cell("-1")).isEqualTo("\"'-1\"");
        assertThat(UsageCsv.cell(null)).isEmpty();
    }
}

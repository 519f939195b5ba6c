package dev.tollgate.console.usage;

import java.util.List;

/**
 * The report's buckets as CSV (RFC 4180), one line per window, key and model. A cell that a
 * spreadsheet would run as a formula ({@code = + - @} first) is quoted with a leading apostrophe.
 */
public final class UsageCsv {
    static final String HEADER = "start,keyId,model,inputTokens,cachedInputTokens,outputTokens,totalTokens,events,amountMicros\r\n";

    private UsageCsv() {}

    public static String of(List<UsageSummary.Bucket> buckets) {
        var csv = new StringBuilder(HEADER);
        for (var b : buckets) {
            csv.append(cell(b.start())).append(',').append(cell(b.keyId())).append(',').append(cell(b.model())).append(',')
                    .append(b.inputTokens()).append(',').append(b.cachedInputTokens()).append(',').append(b.outputTokens()).append(',')
                    .append(b.totalTokens()).append(',').append(b.events()).append(',').append(b.amountMicros()).append("\r\n");
        }
        return csv.toString();
    }

    static String cell(String value) {
        if (value == null) {
            return "";
        }
        String v = !value.isEmpty() && "=+-@\t\r".indexOf(value.charAt(0)) >= 0 ? "'" + value : value;
        return v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r") || v.startsWith("'")
                ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
    }
}

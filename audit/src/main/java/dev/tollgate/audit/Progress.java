package dev.tollgate.audit;

import java.io.PrintStream;

/**
 * A one-line progress bar on standard error (count, rate, ETA), shown only once a replay has run
 * for a second, redrawn at most twice a second. No library offers this without a terminal
 * dependency; it is a dozen lines.
 */
final class Progress {
    private final PrintStream out;
    private final String what;
    private final long total;
    private final long started = System.nanoTime();
    private long lastDraw;
    private boolean drawn;

    Progress(PrintStream out, String what, long total) {
        this.out = out;
        this.what = what;
        this.total = total;
    }

    void update(long done) {
        long now = System.nanoTime();
        if (now - started < 1_000_000_000L || now - lastDraw < 500_000_000L) {
            return;
        }
        lastDraw = now;
        drawn = true;
        double seconds = (now - started) / 1e9;
        double rate = done / seconds;
        String eta = total > done && rate > 0 ? String.format("ETA %.0f s", (total - done) / rate) : "";
        int width = 30;
        int filled = total <= 0 ? 0 : (int) Math.min(width, width * done / total);
        out.printf("\r%s [%s%s] %,d/%,d  %,.0f/s  %s   ", what, "#".repeat(filled), " ".repeat(width - filled), done, total, rate, eta);
    }

    void finish(long done) {
        if (drawn) {
            double seconds = (System.nanoTime() - started) / 1e9;
            out.printf("\r%s %,d in %.1f s (%,.0f/s)%s%n", what, done, seconds, done / seconds, " ".repeat(30));
        }
    }
}

package dev.tollgate.audit;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** One run of the audit CLI in this JVM, with what it printed on standard output. */
public record CliRun(int code, String out) {

    /** Runs {@code tollgate-audit args...}; runs one at a time, since it captures {@code System.out}. */
    public static synchronized CliRun of(String... args) {
        PrintStream original = System.out;
        var buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            return new CliRun(AuditCli.run(args), buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(original);
        }
    }
}

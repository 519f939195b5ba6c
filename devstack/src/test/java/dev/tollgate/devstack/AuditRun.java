package dev.tollgate.devstack;

import dev.tollgate.audit.AuditCli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs {@code tollgate-audit} in this JVM with its report captured in {@code out}; returns its exit code. */
final class AuditRun {
    private AuditRun() {}

    static synchronized int run(ByteArrayOutputStream out, String... args) {
        PrintStream original = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            return AuditCli.run(args);
        } finally {
            System.setOut(original);
        }
    }
}

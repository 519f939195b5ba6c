package dev.tollgate.testkit.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** CPU time (user + system) that Linux reports for processes and threads in {@code /proc}: what benchmarks print beside a rate. */
public final class CpuTime {
    /** USER_HZ on Linux: the unit of the times in a {@code stat} file. */
    private static final long CLOCK_TICKS = 100;

    private CpuTime() {}

    /** Seconds of CPU in one {@code /proc/.../stat} line (a process's or a thread's). */
    public static double ofStatLine(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / (double) CLOCK_TICKS;
    }

    /** Seconds of CPU the process itself (not its children) has used so far; 0 once it is gone. */
    public static double ofProcess(long pid) {
        try {
            return ofStatLine(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Seconds of CPU of every process now alive whose name ({@code comm}) is {@code name}, e.g. PostgreSQL's server and backends. */
    public static double ofProcessesNamed(String name) {
        double total = 0;
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            for (Path process : (Iterable<Path>) processes::iterator) {
                if (!process.getFileName().toString().chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    if (Files.readString(process.resolve("comm")).strip().equals(name)) {
                        total += ofProcess(Long.parseLong(process.getFileName().toString()));
                    }
                } catch (IOException e) {
                    // the process ended while we read it
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return total;
    }
}

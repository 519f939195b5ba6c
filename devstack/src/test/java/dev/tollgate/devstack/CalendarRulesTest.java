package dev.tollgate.devstack;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #19 item 14: no production code computes a date from the machine's clock or zone. A date
 * comes from an instant the caller passes (an event's time, an injected {@code Clock}) and the
 * tenant's billing zone; the wall clock may only stamp instants ({@code Instant.now()}). Calls that
 * read the machine's date or zone are refused here, so that a date-dependent bug cannot hide until
 * the 1st of a month or a machine in another zone.
 */
class CalendarRulesTest {
    private static final Path ROOT = Path.of("..");
    private static final Pattern FORBIDDEN = Pattern.compile(
            "\\b(LocalDate|LocalDateTime|LocalTime|YearMonth|Year|MonthDay|ZonedDateTime|OffsetDateTime|OffsetTime)\\.now\\(\\)"
                    + "|\\bZoneId\\.systemDefault\\(\\)|\\bTimeZone\\.getDefault\\(\\)|\\bClock\\.systemDefaultZone\\(\\)");

    @Test
    void noProductionCodeReadsTheMachinesDateOrZone() {
        List<String> offences = new ArrayList<>();
        int scanned = 0;
        try (Stream<Path> files = Files.walk(ROOT)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java") && f.toString().contains("/src/main/java/")
                    && !f.toString().contains("/target/")).toList()) {
                scanned++;
                List<String> lines = Files.readAllLines(file);
                for (int i = 0; i < lines.size(); i++) {
                    if (FORBIDDEN.matcher(lines.get(i)).find()) {
                        offences.add(ROOT.relativize(file) + ":" + (i + 1) + ": " + lines.get(i).strip());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(scanned).as("production sources scanned").isGreaterThan(100);
        assertThat(offences).as("date or zone read from the machine instead of an instant and the tenant's zone").isEmpty();
    }

    @Test
    void theRuleCatchesWhatItIsFor() {
        for (String line : List.of("LocalDate today = LocalDate.now();", "var zone = ZoneId.systemDefault();",
                "YearMonth month = YearMonth.now();", "TimeZone.getDefault()")) {
            assertThat(FORBIDDEN.matcher(line).find()).as(line).isTrue();
        }
        for (String line : List.of("Instant now = Instant.now();", "YearMonth.now(ZoneOffset.UTC)", "LocalDate.now(clock)")) {
            assertThat(FORBIDDEN.matcher(line).find()).as(line).isFalse();
        }
    }
}

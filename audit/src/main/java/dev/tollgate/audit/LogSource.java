package dev.tollgate.audit;

import java.io.IOException;
import java.util.function.Consumer;

/** Where the replay reads the event log: the cluster, or an export file. */
public interface LogSource {
    /** Every record of {@code topic}, in offset order within each partition; {@code total} is known in advance. */
    void read(String topic, Consumer<SourceRecord> sink, Progress progress) throws IOException;

    /** How many records {@code topic} holds (for the progress bar). */
    long size(String topic) throws IOException;
}

package dev.tollgate.schemas.state;

/**
 * The latest state of one entity on a compacted topic. Unlike events these carry no envelope: the
 * Kafka key is {@link #stateKey()}, the value is the record's JSON, and a tombstone (null value) deletes.
 */
public interface StateRecord {
    /** The compaction key: one record per key survives. */
    String stateKey();

    /** Monotonic per key (the ledger aggregate's sequence number); a reader ignores older versions. */
    long version();
}

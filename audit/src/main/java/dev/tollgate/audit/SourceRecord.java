package dev.tollgate.audit;

/** One record of a topic, as Kafka or an export file gives it: the raw value, byte for byte. */
public record SourceRecord(String topic, int partition, long offset, String key, byte[] value) {}

/**
 * The billing projector: a Kafka Streams application (exactly-once v2) that turns usage events into
 * windowed usage, quota state and priced invoices.
 */
package dev.tollgate.projector;

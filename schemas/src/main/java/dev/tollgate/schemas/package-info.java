/**
 * The contract between Tollgate's services: the CloudEvents envelope, every event and state record
 * that crosses Kafka, their JSON codec and the topic catalog. Depends on Jackson only.
 */
package dev.tollgate.schemas;

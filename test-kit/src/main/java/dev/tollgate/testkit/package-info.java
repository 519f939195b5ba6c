/**
 * Test-only infrastructure shared by every module's tests and by the dev stack: an in-JVM Kafka
 * broker (KRaft), a PostgreSQL database-per-test-class helper, and a fake OpenAI-compatible upstream.
 * Never a dependency of a service's main code.
 */
package dev.tollgate.testkit;

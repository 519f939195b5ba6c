package dev.tollgate.ledger.api;

import org.axonframework.common.lock.LockAcquisitionFailedException;
import org.junit.jupiter.api.Test;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;

import static org.assertj.core.api.Assertions.assertThat;

class ProblemHandlerTest {
    /** PostgresPartitionIT once got a 500 here: a rotation waited 60 s for a tenant locked by a command stuck on the database. */
    @Test
    void aCommandThatNeverGotItsAggregatesLockIsAskedToRetry() {
        ResponseEntity<ProblemDetail> answer = new ProblemHandler()
                .busy(new LockAcquisitionFailedException("Failed to acquire lock for aggregate identifier(demo), maximum attempts exceeded (6000)"));

        assertThat(answer.getStatusCode().value()).isEqualTo(503);
        assertThat(answer.getHeaders().getFirst("Retry-After")).isEqualTo("5");
        assertThat(answer.getBody().getProperties()).containsEntry("code", "resource_busy");
    }
}

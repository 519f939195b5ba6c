package dev.tollgate.testkit.postgres;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(PostgresExtension.class)
@Migrations("classpath:db/testkit")
class PostgresExtensionIT {

    @Test
    void theClassGetsAFreshDatabaseWithItsMigrationsApplied(PostgresDatabase database) throws Exception {
        try (Connection connection = database.connect(); var statement = connection.createStatement()) {
            statement.executeUpdate("INSERT INTO probe (id, note) VALUES (1, 'written by the test')");
            try (ResultSet rows = statement.executeQuery("SELECT count(*) FROM probe")) {
                rows.next();
                assertThat(rows.getLong(1)).isEqualTo(1);
            }
        }
        assertThat(database.name()).startsWith("tg_postgresextensionit_");
    }

    @Test
    void aDatabaseIsDroppedWhenClosed() throws Exception {
        PostgresDatabase other = PostgresDatabase.create("dropped");
        try (Connection connection = other.connect()) {
            assertThat(connection.isValid(2)).isTrue();
        }
        other.close();

        assertThatThrownBy(other::connect).hasMessageContaining(other.name());
    }
}

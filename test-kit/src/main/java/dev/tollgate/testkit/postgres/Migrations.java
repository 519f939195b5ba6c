package dev.tollgate.testkit.postgres;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Flyway locations that {@link PostgresExtension} applies to the test class's fresh database. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Migrations {
    /** Flyway locations, e.g. {@code classpath:db/migration}. */
    String[] value();
}

package dev.tollgate.testkit.postgres;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.Optional;

/**
 * JUnit 5 extension: a fresh PostgreSQL database per test class, migrated with Flyway from the
 * locations named by {@link Migrations} on the class (none by default), dropped after the class.
 * Inject it as a {@link PostgresDatabase} parameter.
 */
public final class PostgresExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(PostgresExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        PostgresDatabase database = PostgresDatabase.create(testClass.getSimpleName());
        try {
            Optional.ofNullable(testClass.getAnnotation(Migrations.class))
                    .ifPresent(migrations -> database.migrate(migrations.value()));
        } catch (RuntimeException e) {
            database.close();
            throw e;
        }
        context.getStore(NAMESPACE).put("database", database);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        PostgresDatabase database = context.getStore(NAMESPACE).remove("database", PostgresDatabase.class);
        if (database != null) {
            database.close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == PostgresDatabase.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        ExtensionContext classContext = context;
        while (classContext.getTestMethod().isPresent() && classContext.getParent().isPresent()) {
            classContext = classContext.getParent().get();
        }
        return classContext.getStore(NAMESPACE).get("database", PostgresDatabase.class);
    }
}

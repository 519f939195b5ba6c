package dev.tollgate.testkit.kafka;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that gives tests the one in-JVM Kafka broker of this test JVM ({@link SharedKafka}):
 * started by the first test that asks for it, with every catalog topic created, stopped when the
 * JVM exits. Inject it as an {@link EmbeddedKafka} parameter.
 *
 * <pre>{@code
 * @ExtendWith(KafkaExtension.class)
 * class UsageIT {
 *     @Test void publishes(EmbeddedKafka kafka) { ... kafka.bootstrapServers() ... }
 * }
 * }</pre>
 */
public final class KafkaExtension implements ParameterResolver {

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == EmbeddedKafka.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return SharedKafka.get();
    }
}

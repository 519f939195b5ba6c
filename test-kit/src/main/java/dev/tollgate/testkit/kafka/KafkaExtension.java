package dev.tollgate.testkit.kafka;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that gives tests the one in-JVM Kafka broker of this test JVM: started by the
 * first test class that asks for it, with every catalog topic created, and stopped when the JVM's
 * test run ends. Inject it as an {@link EmbeddedKafka} parameter.
 *
 * <pre>{@code
 * @ExtendWith(KafkaExtension.class)
 * class UsageIT {
 *     @Test void publishes(EmbeddedKafka kafka) { ... kafka.bootstrapServers() ... }
 * }
 * }</pre>
 */
public final class KafkaExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(KafkaExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == EmbeddedKafka.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return broker(context);
    }

    /** The shared broker, started on first use. */
    public static EmbeddedKafka broker(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent("broker", key -> new Handle(EmbeddedKafka.startEphemeral()), Handle.class)
                .kafka();
    }

    /** Closes the broker when the root context (the whole test run of this JVM) ends. */
    private record Handle(EmbeddedKafka kafka) implements ExtensionContext.Store.CloseableResource {
        Handle {
            System.out.printf("[tollgate-test-kit] in-JVM Kafka (KRaft) started in %d ms at %s%n",
                    kafka.startupTime().toMillis(), kafka.bootstrapServers());
        }

        @Override
        public void close() {
            kafka.close();
        }
    }
}

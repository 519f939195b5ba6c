package dev.tollgate.testkit.kafka;

/**
 * The one in-JVM broker of a test JVM, for code that needs it before JUnit parameters exist
 * (e.g. a Spring {@code @DynamicPropertySource}). Started on first use, stopped at JVM exit.
 */
public final class SharedKafka {
    private static EmbeddedKafka broker;

    private SharedKafka() {}

    /** The broker, started (with every catalog topic) on the first call. */
    public static synchronized EmbeddedKafka get() {
        if (broker == null) {
            broker = EmbeddedKafka.startEphemeral();
            System.out.printf("[tollgate-test-kit] in-JVM Kafka (KRaft) started in %d ms at %s%n",
                    broker.startupTime().toMillis(), broker.bootstrapServers());
            EmbeddedKafka started = broker;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "embedded-kafka-stop"));
        }
        return broker;
    }
}

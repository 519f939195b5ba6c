package dev.tollgate.devstack;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Properties;

/**
 * Random development secrets (the console's OIDC client secret, webhook master key, the fake Stripe's webhook signing secret), made on first start and
 * kept in {@code <data-dir>/dev-secrets.properties} (mode 600) so that tokens stay valid across
 * restarts (the dev identity provider keeps its signing key beside them). Development only: production takes them from its secret store.
 */
record DevSecrets(String consoleClientSecret, String webhookMasterKey, String stripeWebhookSecret) {

    static DevSecrets loadOrCreate(Path dataDir) {
        Path file = dataDir.resolve("dev-secrets.properties");
        var properties = new Properties();
        try {
            if (Files.exists(file)) {
                try (Reader reader = Files.newBufferedReader(file)) {
                    properties.load(reader);
                }
            }
            boolean changed = false;
            for (String name : new String[] {"console-client-secret", "webhook-master-key", "stripe-webhook-secret"}) {
                if (properties.getProperty(name) == null) {
                    properties.setProperty(name, random());
                    changed = true;
                }
            }
            if (changed) {
                try (Writer writer = Files.newBufferedWriter(file)) {
                    properties.store(writer, "Tollgate dev stack secrets (development only)");
                }
                restrict(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + file, e);
        }
        return new DevSecrets(properties.getProperty("console-client-secret"), properties.getProperty("webhook-master-key"),
                "whsec_" + properties.getProperty("stripe-webhook-secret"));
    }

    static void restrict(Path file) {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: nothing more to do
        }
    }

    /** 32 random bytes, URL-safe base64. */
    static String random() {
        var bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    @Override
    public String toString() {
        return "DevSecrets[<redacted>]";
    }
}

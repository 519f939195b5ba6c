package dev.tollgate.console.config;

import jakarta.validation.constraints.NotBlank;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * Where the console finds the APIs it is built on, checked at start-up.
 *
 * @param adminApiUrl   the ledger's admin API, e.g. {@code http://ledger:8081}
 * @param billingApiUrl the billing API, e.g. {@code http://billing:8082}
 * @param gatewayUrl    the gateway as tenants reach it, shown next to a new key (display only)
 */
@Validated
@ConfigurationProperties("tollgate.console")
public record ConsoleProperties(@NotBlank String adminApiUrl, @NotBlank String billingApiUrl, String gatewayUrl) {
    public ConsoleProperties {
        adminApiUrl = trimSlash(adminApiUrl);
        billingApiUrl = trimSlash(billingApiUrl);
        gatewayUrl = gatewayUrl == null || gatewayUrl.isBlank() ? null : trimSlash(gatewayUrl);
    }

    private static String trimSlash(String url) {
        return url != null && url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}

package dev.tollgate.service.telemetry;

import dev.tollgate.telemetry.Telemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/**
 * Tracing and log correlation for the admin (ledger) and billing APIs, imported by both: one
 * OpenTelemetry SDK named after {@code spring.application.name} (configured by the {@code OTEL_*}
 * variables, see {@link Telemetry}), and a server span plus trace, span and request ids in the MDC
 * for every HTTP request ({@link RequestTelemetryFilter}); the caller's tenant and subject join the
 * MDC once the bearer token is verified ({@code BearerSecurity}).
 */
@Configuration(proxyBeanMethods = false)
public class ServiceTelemetry {

    @Bean(destroyMethod = "close")
    public OpenTelemetrySdk openTelemetry(@Value("${spring.application.name}") String serviceName) {
        return Telemetry.start(serviceName);
    }

    @Bean
    public FilterRegistrationBean<RequestTelemetryFilter> requestTelemetryFilter(OpenTelemetrySdk openTelemetry) {
        var registration = new FilterRegistrationBean<>(new RequestTelemetryFilter(openTelemetry));
        // Before Spring Security, so that a refused token is traced and logged with its ids too.
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
        return registration;
    }
}

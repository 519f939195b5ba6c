package dev.tollgate.service.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.coyote.http11.AbstractHttp11Protocol;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.Ordered;

import java.time.Duration;

/**
 * What one request may cost the admin and billing APIs, imported by both (issue #19 item 6; ADR
 * 0021): every body bounded in size and time ({@link BoundedBodyFilter}, ahead of authentication),
 * an unread body never drained at the cost of a worker thread ({@link UnreadBodyValve}), and each
 * blocking read of a request bounded by {@code tollgate.http.read-timeout} (Tomcat's
 * {@code connectionTimeout}, also the wait for a request head), while idle keep-alive connections,
 * which hold no thread, wait up to {@code tollgate.http.keep-alive-timeout}. What Tomcat refuses by
 * itself is answered as a problem too ({@link ProblemErrors}).
 */
@Configuration(proxyBeanMethods = false)
@Import(ProblemErrors.class)
public class RequestBodyLimits {

    @Bean
    public FilterRegistrationBean<BoundedBodyFilter> boundedBodyFilter(ObjectMapper mapper,
            @Value("${tollgate.http.max-body-bytes:1048576}") long maxBytes,
            @Value("${tollgate.http.body-deadline:10s}") Duration deadline,
            @Value("${tollgate.http.max-slow-bodies:32}") int maxSlowBodies) {
        var registration = new FilterRegistrationBean<>(new BoundedBodyFilter(mapper, maxBytes, deadline, maxSlowBodies));
        // After request telemetry (so a refusal is traced), before Spring Security and anything that reads a body.
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 20);
        return registration;
    }

    @Bean
    public WebServerFactoryCustomizer<TomcatServletWebServerFactory> unreadBodiesAndReadTimeouts(
            @Value("${tollgate.http.read-timeout:5s}") Duration readTimeout,
            @Value("${tollgate.http.keep-alive-timeout:30s}") Duration keepAliveTimeout) {
        return factory -> {
            factory.addEngineValves(new UnreadBodyValve());
            factory.addConnectorCustomizers(connector -> {
                if (connector.getProtocolHandler() instanceof AbstractHttp11Protocol<?> http) {
                    http.setConnectionTimeout((int) readTimeout.toMillis());
                    http.setKeepAliveTimeout((int) keepAliveTimeout.toMillis());
                }
            });
        };
    }
}

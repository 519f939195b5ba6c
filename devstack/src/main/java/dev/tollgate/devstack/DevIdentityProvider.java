package dev.tollgate.devstack;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.context.PropertyPlaceholderAutoConfiguration;
import org.springframework.boot.autoconfigure.http.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration;
import org.springframework.boot.autoconfigure.security.servlet.SecurityAutoConfiguration;
import org.springframework.boot.autoconfigure.security.servlet.SecurityFilterAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.DispatcherServletAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.ServletWebServerFactoryAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.WebMvcAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.error.ErrorMvcAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.core.annotation.Order;
import org.springframework.http.MediaType;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.oidc.OidcScopes;
import org.springframework.security.oauth2.core.oidc.endpoint.OidcParameterNames;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.client.InMemoryRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.config.annotation.web.configuration.OAuth2AuthorizationServerConfiguration;
import org.springframework.security.oauth2.server.authorization.config.annotation.web.configurers.OAuth2AuthorizationServerConfigurer;
import org.springframework.security.oauth2.server.authorization.settings.AuthorizationServerSettings;
import org.springframework.security.oauth2.server.authorization.settings.ClientSettings;
import org.springframework.security.oauth2.server.authorization.settings.TokenSettings;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.security.web.util.matcher.MediaTypeRequestMatcher;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.HtmlUtils;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The dev stack's OpenID Connect identity provider (Spring Authorization Server), which the
 * console signs in with and whose keys (JWKS) the admin and billing APIs trust, as they would a
 * company's own provider in production (ADR 0026). Development only: it listens on 127.0.0.1, and
 * its sign-in page lets whoever reaches it choose a dev identity without a password (the demo
 * tenant's admin, a platform admin, billing, an auditor, or the admin of any tenant). The signing
 * key is kept in {@code <data-dir>/dev-idp-key.json} (mode 600) so that tokens outlive a restart.
 *
 * <p>Tokens carry the claims the APIs read: {@code roles}, {@code tenant} (tenant-admins) and
 * {@code aud} = the APIs' audience.
 */
final class DevIdentityProvider implements AutoCloseable {
    static final String CLIENT_ID = "tollgate-console";
    static final String REGISTRATION = "tollgate";
    /**
     * Spring Boot's authorization-server auto-configuration, which the other services of this JVM must not run (it would
     * give each a signing key and a token decoder of its own); this provider configures itself.
     */
    static final String ITS_AUTO_CONFIGURATION = "org.springframework.boot.autoconfigure.security.oauth2.server.servlet."
            + "OAuth2AuthorizationServerAutoConfiguration,org.springframework.boot.autoconfigure.security.oauth2.server.servlet."
            + "OAuth2AuthorizationServerJwtAutoConfiguration";

    private final ConfigurableApplicationContext context;
    private final RSAKey key;
    private final String issuer;

    private DevIdentityProvider(ConfigurableApplicationContext context, RSAKey key, String issuer) {
        this.context = context;
        this.key = key;
        this.issuer = issuer;
    }

    /**
     * @param port        where it listens (0: a free port)
     * @param consoleUrl  the console's base URL, the only client (its redirect and sign-out return URIs)
     * @param clientSecret the console's client secret
     */
    static DevIdentityProvider start(int port, String consoleUrl, String clientSecret, Path dataDir) {
        RSAKey key = signingKey(dataDir.resolve("dev-idp-key.json"));
        int chosen = LocalPorts.orFree(port);
        String issuer = "http://127.0.0.1:" + chosen;
        ConfigurableApplicationContext context = new SpringApplicationBuilder(Config.class)
                .initializers(ctx -> {
                    ((GenericApplicationContext) ctx).registerBean(Settings.class, () -> new Settings(issuer, consoleUrl, clientSecret, key));
                })
                .run("--server.port=" + chosen, "--server.address=127.0.0.1", "--spring.main.banner-mode=off",
                        "--spring.application.name=tollgate-dev-idp", "--server.servlet.session.cookie.name=tollgate-dev-idp",
                        "--spring.config.name=tollgate-dev-idp");
        return new DevIdentityProvider(context, key, issuer);
    }

    /** The {@code iss} of its tokens and the base of its endpoints. */
    String issuer() {
        return issuer;
    }

    /** Where its public keys are. */
    String jwksUri() {
        return issuer + "/oauth2/jwks";
    }

    /** A token signed with its key, for the dev stack's own calls (seeding, the printed admin token, tests). */
    String mint(String subject, List<String> roles, String tenant, Duration lifetime) {
        var claims = new JWTClaimsSet.Builder().subject(subject).issuer(issuer).audience(LocalLedger.AUDIENCE)
                .issueTime(new Date()).expirationTime(Date.from(Instant.now().plus(lifetime))).jwtID(UUID.randomUUID().toString())
                .claim("roles", roles);
        if (tenant != null) {
            claims.claim("tenant", tenant);
        }
        try {
            var jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims.build());
            jwt.sign(new RSASSASigner(key));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a dev token", e);
        }
    }

    @Override
    public void close() {
        context.close();
    }

    private static RSAKey signingKey(Path file) {
        try {
            if (Files.exists(file)) {
                return RSAKey.parse(Files.readString(file));
            }
            RSAKey key = new RSAKeyGenerator(2048).keyID(UUID.randomUUID().toString()).generate();
            Files.writeString(file, key.toJSONString());
            DevSecrets.restrict(file);
            return key;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + file, e);
        } catch (ParseException | JOSEException e) {
            throw new IllegalStateException("cannot read or make the dev identity provider's key " + file, e);
        }
    }

    /** What the provider's context is made with. */
    record Settings(String issuer, String consoleUrl, String clientSecret, RSAKey key) {
        @Override
        public String toString() {
            return "Settings[" + issuer + "]";
        }
    }

    /**
     * A dev identity, from the name chosen on the sign-in page: {@code platform-admin}, {@code billing},
     * {@code auditor}, or {@code tenant-admin@TENANT}.
     */
    record DevUser(String name, List<String> roles, String tenant) {
        static DevUser parse(String name) {
            if (name == null) {
                return null;
            }
            if (name.startsWith("tenant-admin@") && name.length() > "tenant-admin@".length()
                    && name.substring("tenant-admin@".length()).matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
                return new DevUser(name, List.of("tenant-admin"), name.substring("tenant-admin@".length()));
            }
            return switch (name) {
                case "platform-admin", "billing", "auditor" -> new DevUser(name, List.of(name), null);
                default -> null;
            };
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableWebSecurity
    @ImportAutoConfiguration({PropertyPlaceholderAutoConfiguration.class, ServletWebServerFactoryAutoConfiguration.class,
            DispatcherServletAutoConfiguration.class, WebMvcAutoConfiguration.class, HttpMessageConvertersAutoConfiguration.class,
            JacksonAutoConfiguration.class, SecurityAutoConfiguration.class, SecurityFilterAutoConfiguration.class,
            ErrorMvcAutoConfiguration.class})
    static class Config {

        @Bean
        @Order(1)
        SecurityFilterChain authorizationServer(HttpSecurity http) throws Exception {
            OAuth2AuthorizationServerConfigurer server = OAuth2AuthorizationServerConfigurer.authorizationServer();
            http.securityMatcher(server.getEndpointsMatcher())
                    .with(server, s -> s.oidc(Customizer.withDefaults()))
                    .authorizeHttpRequests(auth -> auth.anyRequest().authenticated())
                    .oauth2ResourceServer(resource -> resource.jwt(Customizer.withDefaults()))
                    .exceptionHandling(ex -> ex.defaultAuthenticationEntryPointFor(new LoginUrlAuthenticationEntryPoint("/login"),
                            new MediaTypeRequestMatcher(MediaType.TEXT_HTML)));
            return http.build();
        }

        @Bean
        @Order(2)
        SecurityFilterChain signIn(HttpSecurity http) throws Exception {
            http.authorizeHttpRequests(auth -> auth.requestMatchers("/login", "/error").permitAll().anyRequest().authenticated())
                    .formLogin(form -> form.loginPage("/login"))
                    .authenticationProvider(new DevSignIn());
            return http.build();
        }

        @Bean
        RegisteredClientRepository clients(Settings settings) {
            RegisteredClient console = RegisteredClient.withId(CLIENT_ID).clientId(CLIENT_ID).clientSecret("{noop}" + settings.clientSecret())
                    .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
                    .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
                    .authorizationGrantType(AuthorizationGrantType.REFRESH_TOKEN)
                    .redirectUri(settings.consoleUrl() + "/login/oauth2/code/" + REGISTRATION)
                    .postLogoutRedirectUri(settings.consoleUrl() + "/signed-out")
                    .scope(OidcScopes.OPENID).scope(OidcScopes.PROFILE)
                    // PKCE is required even of this confidential client; no consent screen for the platform's own console.
                    .clientSettings(ClientSettings.builder().requireProofKey(true).requireAuthorizationConsent(false).build())
                    .tokenSettings(TokenSettings.builder().accessTokenTimeToLive(Duration.ofMinutes(30))
                            .refreshTokenTimeToLive(Duration.ofHours(8)).reuseRefreshTokens(false).build())
                    .build();
            return new InMemoryRegisteredClientRepository(console);
        }

        @Bean
        JWKSource<SecurityContext> keys(Settings settings) {
            return new ImmutableJWKSet<>(new JWKSet(settings.key()));
        }

        @Bean
        JwtDecoder jwtDecoder(JWKSource<SecurityContext> keys) {
            return OAuth2AuthorizationServerConfiguration.jwtDecoder(keys);
        }

        @Bean
        AuthorizationServerSettings authorizationServerSettings(Settings settings) {
            return AuthorizationServerSettings.builder().issuer(settings.issuer()).build();
        }

        /** The APIs' claims: roles and tenant in both tokens; the APIs' audience on the access token. */
        @Bean
        OAuth2TokenCustomizer<JwtEncodingContext> claims() {
            return context -> {
                DevUser user = DevUser.parse(context.getPrincipal().getName());
                if (user == null) {
                    return;
                }
                boolean access = OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType());
                boolean id = OidcParameterNames.ID_TOKEN.equals(context.getTokenType().getValue());
                if (access || id) {
                    context.getClaims().claim("roles", user.roles());
                    if (user.tenant() != null) {
                        context.getClaims().claim("tenant", user.tenant());
                    }
                }
                if (access) {
                    context.getClaims().audience(List.of(LocalLedger.AUDIENCE));
                }
                if (id) {
                    context.getClaims().claim("name", user.tenant() == null ? user.name() : "Admin of " + user.tenant());
                }
            };
        }

        @Bean
        SignInPage signInPage() {
            return new SignInPage();
        }
    }

    /** Signs in whichever dev identity was chosen; there is no password (development only). */
    static final class DevSignIn implements AuthenticationProvider {
        @Override
        public Authentication authenticate(Authentication authentication) {
            DevUser user = DevUser.parse(authentication.getName());
            if (user == null) {
                throw new BadCredentialsException("unknown dev identity");
            }
            return UsernamePasswordAuthenticationToken.authenticated(user.name(), null, AuthorityUtils.createAuthorityList("ROLE_DEV"));
        }

        @Override
        public boolean supports(Class<?> authentication) {
            return UsernamePasswordAuthenticationToken.class.isAssignableFrom(authentication);
        }
    }

    /** The sign-in page: one button per dev identity, and a field for the admin of any tenant. */
    @RestController
    static final class SignInPage {
        private static final Map<String, String> CHOICES = Map.of(
                "tenant-admin@" + DemoSeed.TENANT, "Demo tenant admin",
                "platform-admin", "Platform admin",
                "billing", "Finance (billing)",
                "auditor", "Auditor");

        @GetMapping(value = "/login", produces = MediaType.TEXT_HTML_VALUE)
        String page(CsrfToken csrf, @RequestParam(required = false) String error) {
            String token = "<input type=\"hidden\" name=\"" + HtmlUtils.htmlEscape(csrf.getParameterName()) + "\" value=\""
                    + HtmlUtils.htmlEscape(csrf.getToken()) + "\"><input type=\"hidden\" name=\"password\" value=\"dev\">";
            var html = new StringBuilder("""
                    <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
                    <title>Sign in · Tollgate dev identity provider</title>
                    <style>body{font:16px/1.5 system-ui,sans-serif;max-width:560px;margin:40px auto;padding:0 16px;color:#1b1f24}
                    button{font:inherit;padding:8px 14px;margin:4px 0;border-radius:6px;border:1px solid #0b5cad;background:#0b5cad;color:#fff;width:100%}
                    input{font:inherit;padding:6px 8px;width:100%;box-sizing:border-box}.note{color:#4a5563;font-size:14px}</style></head><body>
                    <h1>Tollgate dev sign-in</h1>
                    <p class="note">The dev stack's identity provider: choose who you are. Development only; production signs in
                    with your company's OpenID Connect provider.</p>
                    """);
            if (error != null) {
                html.append("<p role=\"alert\">That is not a dev identity.</p>");
            }
            for (String name : List.of("tenant-admin@" + DemoSeed.TENANT, "platform-admin", "billing", "auditor")) {
                html.append("<form method=\"post\" action=\"/login\">").append(token)
                        .append("<input type=\"hidden\" name=\"username\" value=\"").append(HtmlUtils.htmlEscape(name)).append("\">")
                        .append("<button type=\"submit\" id=\"as-").append(HtmlUtils.htmlEscape(name.replace('@', '-'))).append("\">Sign in as ")
                        .append(HtmlUtils.htmlEscape(CHOICES.get(name))).append("</button></form>");
            }
            html.append("<form method=\"post\" action=\"/login\">").append(token)
                    .append("<label for=\"username\">Or the admin of a tenant: <code>tenant-admin@TENANT</code></label>")
                    .append("<input id=\"username\" name=\"username\" value=\"tenant-admin@\" autocomplete=\"off\">")
                    .append("<button type=\"submit\" id=\"as-other\">Sign in</button></form></body></html>");
            return html.toString();
        }
    }
}

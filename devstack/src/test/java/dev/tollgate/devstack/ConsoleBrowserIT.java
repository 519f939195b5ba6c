package dev.tollgate.devstack;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The console in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver};
 * {@code .ci/run} installs them) against the dev stack: sign-in through the dev identity provider
 * (OIDC, PKCE), today's chart filling after completions, a key issued, used through the gateway,
 * rotated and revoked, an invoice opened, the usage CSV, another tenant's admin who reaches none of
 * it (by URL too), CSRF and session fixation, the operators' tenants list, and a phone-width page.
 * Screenshots of the main pages go to {@code target/console-screenshots}, or where
 * {@code -Dconsole.screenshots} says ({@code docs/console} in the README's command).
 */
class ConsoleBrowserIT {
    private static final String DATABASE = "tg_console_it_" + UUID.randomUUID().toString().substring(0, 8);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Path SCREENSHOTS = Path.of(System.getProperty("console.screenshots", "target/console-screenshots"));

    /** Lists the visible texts whose colour against their (first opaque ancestor's) background is below WCAG AA. */
    private static final String CONTRAST_CHECK = """
            const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
            const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
              return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
            const background = e => { for (; e; e = e.parentElement) { if (e instanceof SVGElement) continue; const c = rgb(getComputedStyle(e).backgroundColor);
              if (c.length === 3 || c[3] > 0) { return c; } } return [255, 255, 255]; };
            const poor = [];
            for (const e of document.querySelectorAll('body *')) {
              if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
              const s = getComputedStyle(e);
              if (s.visibility === 'hidden' || s.display === 'none' || e.getClientRects().length === 0) continue;
              const a = lum(rgb(e instanceof SVGElement ? s.fill : s.color)), b = lum(background(e));
              const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
              const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight) >= 700;
              const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
              if (ratio < needed) poor.push(e.tagName + ' "' + e.textContent.trim().slice(0, 40) + '" ' + ratio.toFixed(2));
            }
            return poor;""";

    private ChromeDriver browser;

    @BeforeEach
    void openBrowser() {
        assertThat(Path.of("/usr/bin/chromedriver")).as("chromium-driver is installed (apt-get install -y chromium chromium-driver)").exists();
        var options = new ChromeOptions().setBinary("/usr/bin/chromium")
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000",
                        "--lang=en-US");
        var service = new ChromeDriverService.Builder().usingDriverExecutable(new File("/usr/bin/chromedriver")).build();
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
        // A click that submits a form may return before the next page is there: lookups wait for it a moment.
        browser.manage().timeouts().implicitlyWait(Duration.ofSeconds(5));
    }

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @AfterAll
    static void dropDatabases() throws Exception {
        var server = PostgresDatabase.Server.fromEnvironment();
        try (var connection = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), server.password());
             var statement = connection.createStatement()) {
            for (String database : List.of(DATABASE, DATABASE + "_billing")) {
                statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            }
        }
    }

    @Test
    void tenantAdminsSeeAndManageOnlyTheirTenantAndOperatorsSeeEveryTenant(@TempDir Path dataDir) throws Exception {
        Map<String, String> options = DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "upstream-port", "0",
                "ledger-port", "0", "gateway-port", "0", "billing-port", "0", "console-port", "0", "idp-port", "0",
                "ledger-database", DATABASE, "billing-database", DATABASE + "_billing", "ttft-ms", "0", "inter-token-ms", "0",
                "completion-tokens", "16");
        try (DevStack stack = DevStack.start(options)) {
            try {
                walkThrough(stack);
            } catch (Throwable e) {
                // What the browser showed when it went wrong (the stack still running), for the CI log.
                System.out.println("console page at failure: " + browser.getCurrentUrl() + "\n" + browser.getPageSource());
                throw e;
            }
        }
    }

    private void walkThrough(DevStack stack) throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            String console = stack.consoleUrl();

            // Sign-in: the console sends the browser to the identity provider; the session id changes at sign-in.
            browser.get(console + "/");
            assertThat(browser.getCurrentUrl()).startsWith(stack.identityProviderUrl() + "/login");
            Cookie before = browser.manage().getCookieNamed("tollgate-console");
            signInAs("as-tenant-admin-demo", console + "/tenants/demo");
            Cookie after = browser.manage().getCookieNamed("tollgate-console");
            assertThat(after).as("a session cookie after sign-in").isNotNull();
            assertThat(after.isHttpOnly()).isTrue();
            assertThat(after.getSameSite()).isEqualToIgnoringCase("Lax");
            if (before != null) {
                assertThat(after.getValue()).as("the session id changes at sign-in (no fixation)").isNotEqualTo(before.getValue());
            }
            assertThat(text("h1")).contains("Demo tenant");

            // Today's chart fills after a few completions through the gateway.
            for (int i = 0; i < 3; i++) {
                assertThat(chat(stack.gatewayUrl(), stack.apiKey()).statusCode()).isEqualTo(200);
            }
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(2)).until(() -> {
                browser.navigate().refresh();
                return browser.findElements(By.id("usage-problem")).isEmpty() && !text("#today-tokens").equals("0");
            });
            assertThat(browser.findElements(By.cssSelector("figure.chart rect.bar")).stream()
                    .anyMatch(bar -> Double.parseDouble(bar.getAttribute("height")) > 0)).as("a bar above zero").isTrue();
            screenshot("overview");
            HttpResponse<String> page = asBrowser("GET", console + "/tenants/demo", null);
            assertThat(page.statusCode()).isEqualTo(200);
            System.out.println("console overview page: " + page.body().getBytes(StandardCharsets.UTF_8).length + " bytes of HTML");

            // Usage: chart, table by model, CSV with the session.
            browser.get(console + "/tenants/demo/usage?window=today&by=model");
            assertThat(text("#usage-table tbody")).contains("fake-chat");
            HttpResponse<String> csv = asBrowser("GET", console + "/tenants/demo/usage.csv?window=today", null);
            assertThat(csv.statusCode()).isEqualTo(200);
            assertThat(csv.headers().firstValue("content-disposition").orElse("")).contains("attachment");
            assertThat(csv.body()).startsWith("start,keyId,model,").contains("fake-chat");
            screenshot("usage");

            // A key: issued with its secret shown once, used through the gateway, rotated, revoked.
            browser.get(console + "/tenants/demo/keys");
            browser.findElement(By.id("key-name")).sendKeys("browser-key");
            browser.findElement(By.cssSelector("#issue-key button[type=submit]")).click();
            String keyId = text("#issued-key-id");
            String secret = browser.findElement(By.id("secret")).getAttribute("value");
            assertThat(secret).startsWith("tg_" + keyId + "_");
            screenshot("key-issued");
            awaitGateway(stack, secret, 200);
            browser.get(console + "/tenants/demo/keys");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).until(() -> {
                browser.navigate().refresh(); // the demo key's completions above show as its last use today
                return text("tr[data-key-id='" + stack.apiKeyId() + "'] .last-used").matches("\\d{4}-\\d{2}-\\d{2}");
            });
            screenshot("keys");
            WebElement row = browser.findElement(By.cssSelector("tr[data-key-id='" + keyId + "']"));
            new Select(row.findElement(By.name("gracePeriodSeconds"))).selectByValue("0");
            row.findElement(By.cssSelector("button.rotate")).click();
            String rotated = browser.findElement(By.id("secret")).getAttribute("value");
            assertThat(rotated).startsWith("tg_" + keyId + "_").isNotEqualTo(secret);
            awaitGateway(stack, rotated, 200);
            awaitGateway(stack, secret, 401);
            browser.get(console + "/tenants/demo/keys");
            browser.findElement(By.cssSelector("tr[data-key-id='" + keyId + "'] button.revoke")).click();
            assertThat(text(".notice")).contains("revoked");
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                browser.navigate().refresh();
                return text("tr[data-key-id='" + keyId + "'] .key-status").equals("REVOKED");
            });
            awaitGateway(stack, rotated, 401);

            // An invoice with its lines and their event digests.
            String invoiceId = await().atMost(Duration.ofSeconds(60)).until(() -> {
                JsonNode invoices = EventCodec.mapper().readTree(api(stack.billingUrl() + "/billing/v1/tenants/demo/invoices", stack.adminToken()));
                return invoices.isArray() && !invoices.isEmpty() && invoices.get(0).path("eventCount").asLong() > 0
                        ? invoices.get(0).path("invoiceId").asText() : null;
            }, id -> id != null);
            browser.get(console + "/tenants/demo/invoices");
            browser.findElement(By.cssSelector("#invoices-table tbody a")).click();
            assertThat(browser.getCurrentUrl()).isEqualTo(console + "/invoices/" + invoiceId);
            assertThat(text("#invoice-lines tbody")).contains("fake-chat");
            assertThat(text("#invoice-total")).startsWith("USD ");
            assertThat(text("#invoice-due")).isEqualTo(text("#invoice-total")); // postpaid: all of it
            screenshot("invoice");

            // The webhook: configured with its signing secret shown once; a test event reaches the receiver, signed with it.
            browser.get(console + "/tenants/demo/webhook");
            browser.findElement(By.id("webhook-url")).clear();
            browser.findElement(By.id("webhook-url")).sendKeys(receiver.url());
            browser.findElement(By.cssSelector("form.stack button[type=submit]")).click();
            String signingSecret = browser.findElement(By.id("signing-secret")).getAttribute("value");
            assertThat(signingSecret).isNotBlank();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                browser.get(console + "/tenants/demo/webhook"); // the billing service learns the new URL from the ledger's state
                if (browser.findElements(By.id("send-test-event")).isEmpty()) {
                    return false;
                }
                browser.findElement(By.id("send-test-event")).click();
                return !browser.findElements(By.id("webhook-test")).isEmpty() && text("#webhook-test").contains("delivered (HTTP 204)");
            });
            WebhookReceiver.Delivery delivery = receiver.last();
            assertThat(delivery.body()).contains("dev.tollgate.webhook.test.v1").contains("\"tenantid\":\"demo\"");
            String[] signature = delivery.signature().split(",");
            assertThat(signature[1]).isEqualTo("v1=" + hmac(signingSecret, signature[0].substring(2) + "." + delivery.body()));
            screenshot("webhook");

            // Credit: the balance page, a purchase through (fake) Stripe's hosted checkout, the grant once Stripe confirms it.
            browser.get(console + "/tenants/demo/balance");
            assertThat(text("#balance-summary")).contains("Postpaid");
            browser.findElement(By.id("credit-amount")).sendKeys("5");
            browser.findElement(By.cssSelector("form.stack button[type=submit]")).click();
            assertThat(text("#checkout")).contains("USD 5.00");
            browser.findElement(By.id("checkout-link")).click();
            assertThat(browser.getCurrentUrl()).startsWith(stack.stripe().apiBase() + "/pay/");
            browser.findElement(By.id("pay")).click();
            // Stripe's page sends the payer back to the console once paid (the fake delivers the webhook first).
            await().atMost(Duration.ofSeconds(15)).until(() -> browser.getCurrentUrl().equals(console + "/tenants/demo/balance"));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                browser.navigate().refresh(); // Stripe's webhook, the ledger's grant, the billing service's copy of the tenant
                return text("#grants-table tbody").contains("PURCHASE") && text("#grants-table tbody").contains("USD 5.00");
            });
            assertThat(text("#grants-table tbody")).contains("every model; every endpoint");
            screenshot("balance");

            // Hybrid from now on: the next usage is paid from the credit, and its invoice shows the credit applied and what is due.
            assertThat(apiCall("PUT", stack.adminUrl() + "/admin/v1/tenants/demo/billing-mode", stack.adminToken(), "{\"mode\":\"HYBRID\"}")
                    .statusCode()).isEqualTo(200);
            String credited = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).until(() -> {
                chat(stack.gatewayUrl(), stack.apiKey()); // billed with credit once the projector has the new mode
                JsonNode invoices = EventCodec.mapper().readTree(api(stack.billingUrl() + "/billing/v1/tenants/demo/invoices", stack.adminToken()));
                return invoices.get(0).path("creditedMicros").asLong() > 0 ? invoices.get(0).path("invoiceId").asText() : null;
            }, id -> id != null);
            browser.get(console + "/invoices/" + credited);
            assertThat(text("#invoice-credits tbody")).contains("Grant");
            assertThat(text("#invoice-credited")).startsWith("−USD ");
            assertThat(text("#invoice-due")).startsWith("USD ");
            screenshot("invoice-credits");

            // CSRF: a change without the form's token is refused, even with the session.
            HttpResponse<String> forged = asBrowser("POST", console + "/tenants/demo/keys", "name=forged&formId=x");
            assertThat(forged.statusCode()).isEqualTo(403);
            assertThat(api(stack.adminUrl() + "/admin/v1/tenants/demo/keys", stack.adminToken())).doesNotContain("forged");

            // Another tenant's admin sees none of demo's data, by following links or guessing URLs.
            assertThat(apiCall("POST", stack.adminUrl() + "/admin/v1/tenants", stack.adminToken(), """
                    {"tenantId":"globex","name":"Globex Corporation","billingTimeZone":"Asia/Tokyo","currency":"USD","planId":"dev"}""")
                    .statusCode()).isEqualTo(201);
            signOut(console);
            browser.get(console + "/");
            browser.findElement(By.id("username")).clear();
            browser.findElement(By.id("username")).sendKeys("tenant-admin@globex");
            signInAs("as-other", console + "/tenants/globex");
            assertThat(text("h1")).contains("Globex");
            for (String guess : List.of("/tenants/demo", "/tenants/demo/keys", "/tenants/demo/usage", "/tenants/demo/invoices",
                    "/tenants/demo/events", "/invoices/" + invoiceId, "/operator/tenants")) {
                browser.get(console + guess);
                assertThat(browser.getPageSource()).as(guess).doesNotContain("Demo tenant").doesNotContain(keyId)
                        .doesNotContain("fake-chat");
                assertThat(text("#problem")).as(guess).isNotEmpty();
            }
            for (String guess : List.of("/tenants/demo/usage.csv", "/invoices/" + invoiceId + ".json")) {
                HttpResponse<String> answer = asBrowser("GET", console + guess, null);
                assertThat(answer.statusCode()).as(guess).isEqualTo(404);
                assertThat(answer.body()).as(guess).doesNotContain("fake-chat");
            }

            // Operators: every tenant, searchable; a tenant's history.
            signOut(console);
            browser.get(console + "/");
            signInAs("as-platform-admin", console + "/operator/tenants");
            assertThat(text("#tenants-table tbody")).contains("demo").contains("globex");
            browser.findElement(By.id("q")).sendKeys("glob");
            browser.findElement(By.cssSelector("form[role=search] button")).click();
            await().atMost(Duration.ofSeconds(10)).until(() -> browser.getCurrentUrl().contains("q=glob")); // the old page's table goes stale
            assertThat(text("#tenants-table tbody")).contains("globex").doesNotContain("Demo tenant");
            browser.get(console + "/operator/tenants");
            screenshot("tenants");
            browser.get(console + "/tenants/demo/events");
            assertThat(text("#events-table tbody")).contains("tenant.created").contains("key.revoked");
            browser.get(console + "/operator/plans");
            assertThat(text("#plans-table tbody")).contains("dev").contains("Developer").contains("POSTPAID");
            assertThat(text("#price-lists-table tbody")).contains("fake-chat").contains("in force");
            screenshot("plans");
            browser.get(console + "/operator/invoices");
            assertThat(text("#all-invoices-table tbody")).contains("demo").contains(invoiceId);
            screenshot("all-invoices");
            browser.get(console + "/operator/dead-letters");
            assertThat(Long.parseLong(text("#dead-letter-count"))).isGreaterThanOrEqualTo(0);

            // A phone's width: nothing wider than the screen but the tables' own scrolling.
            browser.manage().window().setSize(new Dimension(390, 844));
            browser.get(console + "/tenants/demo");
            Number overflow = (Number) ((JavascriptExecutor) browser).executeScript(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
            assertThat(overflow.intValue()).as("horizontal overflow at 390 px").isLessThanOrEqualTo(0);
            screenshot("overview-phone");
            // Every visible form field has a label a screen reader can read.
            browser.manage().window().setSize(new Dimension(1280, 1000));
            browser.get(console + "/tenants/demo/keys");
            Number unlabelled = (Number) ((JavascriptExecutor) browser).executeScript("""
                    return [...document.querySelectorAll('input:not([type=hidden]), select')]
                      .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length;""");
            assertThat(unlabelled.intValue()).isZero();
            // Text contrast (WCAG 2.1 AA: 4.5:1, 3:1 for large text) of every visible text on the main pages.
            for (String path : List.of("/tenants/demo", "/tenants/demo/usage", "/tenants/demo/keys", "/tenants/demo/invoices", "/operator/tenants",
                    "/operator/plans", "/operator/invoices")) {
                browser.get(console + path);
                @SuppressWarnings("unchecked")
                List<String> poor = (List<String>) ((JavascriptExecutor) browser).executeScript(CONTRAST_CHECK);
                assertThat(poor).as("text below AA contrast on " + path).isEmpty();
            }
            // The check finds poor contrast where there is some (light grey on white, 1.6:1).
            ((JavascriptExecutor) browser).executeScript(
                    "const p = document.createElement('p'); p.textContent = 'faint'; p.style.color = '#cccccc'; document.getElementById('main').append(p);");
            @SuppressWarnings("unchecked")
            List<String> faint = (List<String>) ((JavascriptExecutor) browser).executeScript(CONTRAST_CHECK);
            assertThat(faint).singleElement().asString().startsWith("P \"faint\"");
        }
    }

    /** Clicks a dev identity's button and waits for the redirects (provider, callback, home) to land on {@code landing}. */
    private void signInAs(String buttonId, String landing) {
        browser.findElement(By.id(buttonId)).click();
        await().atMost(Duration.ofSeconds(15)).until(() -> browser.getCurrentUrl().equals(landing));
    }

    private static String hmac(String secret, String message) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
    }

    private void signOut(String console) {
        browser.findElement(By.cssSelector("form.signout button")).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> browser.getCurrentUrl().equals(console + "/signed-out"));
    }

    private String text(String css) {
        return browser.findElement(By.cssSelector(css)).getText().strip();
    }

    private void screenshot(String name) throws Exception {
        Files.createDirectories(SCREENSHOTS);
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    /** A request with the browser's console session, as a forged page or a script outside the page would send it. */
    private HttpResponse<String> asBrowser(String method, String url, String form) throws Exception {
        Cookie session = browser.manage().getCookieNamed("tollgate-console");
        var request = HttpRequest.newBuilder(URI.create(url)).header("cookie", session.getName() + "=" + session.getValue());
        if (form != null) {
            request.header("content-type", "application/x-www-form-urlencoded");
        }
        request.method(method, form == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(form));
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitGateway(DevStack stack, String apiKey, int status) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> models(stack.gatewayUrl(), apiKey) == status);
    }

    private static int models(String gateway, String apiKey) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(gateway + "/v1/models")).header("authorization", "Bearer " + apiKey).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static HttpResponse<String> chat(String gateway, String apiKey) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(gateway + "/v1/chat/completions")).header("authorization", "Bearer " + apiKey)
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String api(String url, String token) throws Exception {
        return apiCall("GET", url, token, null).body();
    }

    private static HttpResponse<String> apiCall(String method, String url, String token, String json) throws Exception {
        var request = HttpRequest.newBuilder(URI.create(url)).header("authorization", "Bearer " + token);
        if (json != null) {
            request.header("content-type", "application/json");
        }
        request.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}

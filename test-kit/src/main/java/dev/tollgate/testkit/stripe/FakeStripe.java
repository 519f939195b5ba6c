package dev.tollgate.testkit.stripe;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local stand-in for the part of the Stripe API that billing uses, strict about what stripe-java
 * really sends: form-encoded parameters, a secret-key bearer, and {@code Idempotency-Key} semantics
 * (a repeated key with the same parameters replays the first answer without creating anything; with
 * other parameters it is refused with an {@code idempotency_error}). It keeps customers, invoices
 * and invoice items, finalizes invoices (total = the sum of their items), creates one-time payment
 * Checkout Sessions whose hosted page ({@code POST /pay/{id}}) pays them and emits a signed
 * {@code checkout.session.completed} event to the configured endpoint, and records every request
 * for assertions. {@link #failNext} injects failures that happen before a request executes (nothing
 * created, no idempotent result saved), as a Stripe load balancer's 500/503 does.
 */
public final class FakeStripe implements AutoCloseable {
    /** One request as the fake received it. */
    public record Request(String method, String path, Map<String, String> form, String idempotencyKey, String authorization,
                          String stripeVersion, int status) {}

    private static final Pattern INVOICE = Pattern.compile("/v1/invoices/([A-Za-z0-9_]+)");
    private static final Pattern CHECKOUT_SESSION = Pattern.compile("/v1/checkout/sessions/([A-Za-z0-9_]+)");
    /** The hosted checkout page's "pay" button: no API key, as a customer's browser has none. */
    private static final Pattern PAY = Pattern.compile("/pay/([A-Za-z0-9_]+)");
    private static final Pattern ATTACH = Pattern.compile("/v1/payment_methods/(pm_[A-Za-z0-9_]+)/attach");
    /** Stripe's test payment methods that fail off-session, with the error code Stripe answers. */
    private static final Map<String, String> FAILING_METHODS = Map.of("pm_card_chargeDeclined", "card_declined",
            "pm_card_authenticationRequired", "authentication_required");
    /** The payment methods the fake knows: Stripe's test shortcuts. */
    private static final Set<String> TEST_METHODS = Set.of("pm_card_visa", "pm_card_mastercard", "pm_card_chargeDeclined",
            "pm_card_authenticationRequired");
    private static final Pattern FINALIZE = Pattern.compile("/v1/invoices/([A-Za-z0-9_]+)/finalize");

    private final Vertx vertx;
    private final HttpServer server;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, JsonObject> customers = new ConcurrentHashMap<>();
    private final Map<String, JsonObject> invoices = new ConcurrentHashMap<>();
    private final Map<String, JsonObject> items = new ConcurrentHashMap<>();
    /** Payment methods attached to customers (payment method id to customer id), and the PaymentIntents created. */
    private final Map<String, String> attached = new ConcurrentHashMap<>();
    private final Map<String, JsonObject> paymentIntents = new ConcurrentHashMap<>();
    private final Map<String, JsonObject> sessions = new ConcurrentHashMap<>();
    private final List<JsonObject> events = new CopyOnWriteArrayList<>();
    private final HttpClient webhookClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private volatile String webhookUrl;
    private volatile String webhookSecret;
    private final Map<String, Saved> idempotent = new ConcurrentHashMap<>();
    private final List<Failure> failures = new CopyOnWriteArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();

    private record Saved(String fingerprint, int status, String body) {}

    private static final class Failure {
        final Pattern path;
        final int status;
        final AtomicInteger remaining;

        Failure(Pattern path, int status, int times) {
            this.path = path;
            this.status = status;
            this.remaining = new AtomicInteger(times);
        }
    }

    private FakeStripe(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    /** Starts on a free loopback port. */
    public static FakeStripe start() {
        Vertx vertx = Vertx.vertx();
        var holder = new FakeStripe[1];
        try {
            HttpServer server = vertx.createHttpServer()
                    .requestHandler(request -> request.body().onSuccess(body -> holder[0].handle(request, body)))
                    .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            holder[0] = new FakeStripe(vertx, server);
            return holder[0];
        } catch (Exception e) {
            vertx.close();
            throw new IllegalStateException("cannot start the fake Stripe", e);
        }
    }

    /** The API base to give stripe-java ({@code StripeClient.builder().setApiBase(...)}). */
    public String apiBase() {
        return "http://127.0.0.1:" + server.actualPort();
    }

    /** The next {@code times} requests whose path matches {@code pathRegex} fail with {@code status}, unexecuted. */
    public void failNext(String pathRegex, int status, int times) {
        failures.add(new Failure(Pattern.compile(pathRegex), status, times));
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    public Map<String, JsonObject> customers() {
        return Map.copyOf(customers);
    }

    public Map<String, JsonObject> invoices() {
        return Map.copyOf(invoices);
    }

    public Map<String, JsonObject> invoiceItems() {
        return Map.copyOf(items);
    }

    public Map<String, JsonObject> checkoutSessions() {
        return Map.copyOf(sessions);
    }

    /** Every event the fake has emitted, oldest first. */
    public List<JsonObject> events() {
        return List.copyOf(events);
    }

    /** Where events go, signed with {@code secret} as Stripe signs them (a webhook endpoint's signing secret). */
    public void sendEventsTo(String url, String secret) {
        this.webhookUrl = url;
        this.webhookSecret = secret;
    }

    /**
     * What the hosted checkout page does when the customer pays: the session becomes {@code complete} and
     * {@code paid} with a PaymentIntent, and a {@code checkout.session.completed} event is emitted (and delivered,
     * if {@link #sendEventsTo} was called). Returns the event; null for an unknown or already completed session.
     */
    public synchronized JsonObject pay(String sessionId) {
        JsonObject session = sessions.get(sessionId);
        if (session == null || !"open".equals(session.getString("status"))) {
            return null;
        }
        session.put("status", "complete").put("payment_status", "paid").put("payment_intent", "pi_" + ids.incrementAndGet());
        JsonObject event = event("checkout.session.completed", session.copy());
        deliver(event);
        return event;
    }

    /**
     * What a refund in Stripe's dashboard does: {@code amountMinor} more of a paid session's payment is refunded (at most
     * what is left) and a {@code charge.refunded} event about its Charge is emitted and delivered, as {@link #pay} does.
     * Returns the event; null for a session that is not paid or has nothing left to refund.
     */
    public synchronized JsonObject refund(String sessionId, long amountMinor) {
        JsonObject session = sessions.get(sessionId);
        if (session == null || !"paid".equals(session.getString("payment_status")) || amountMinor <= 0) {
            return null;
        }
        long paid = session.getLong("amount_total");
        long refunded = session.getLong("amount_refunded", 0L) + amountMinor;
        if (refunded > paid) {
            return null;
        }
        session.put("amount_refunded", refunded);
        String pi = session.getString("payment_intent");
        var charge = new JsonObject().put("id", "ch_" + pi.substring(3)).put("object", "charge").put("payment_intent", pi)
                .put("amount", paid).put("amount_captured", paid).put("amount_refunded", refunded).put("currency", session.getString("currency"))
                .put("paid", true).put("refunded", refunded == paid).put("status", "succeeded");
        JsonObject event = event("charge.refunded", charge);
        deliver(event);
        return event;
    }

    /** A Stripe event of {@code type} about {@code object}, recorded like the ones the fake emits itself (not delivered). */
    public JsonObject event(String type, JsonObject object) {
        var event = new JsonObject().put("id", "evt_" + ids.incrementAndGet()).put("object", "event").put("api_version", "2025-01-27.acacia")
                .put("created", System.currentTimeMillis() / 1000).put("type", type).put("livemode", false)
                .put("data", new JsonObject().put("object", object));
        events.add(event);
        return event;
    }

    /** Delivers {@code event} to the configured endpoint (again, if it was delivered before); the endpoint's status, or -1. */
    public int deliver(JsonObject event) {
        String url = webhookUrl;
        if (url == null) {
            return -1;
        }
        String payload = event.encode();
        try {
            return webhookClient.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json; charset=utf-8")
                    .header("Stripe-Signature", signature(payload, webhookSecret, System.currentTimeMillis() / 1000))
                    .POST(HttpRequest.BodyPublishers.ofString(payload)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Sets an invoice's total as if someone edited it in Stripe's dashboard (an audit tamper case). */
    public void overrideTotal(String invoiceId, long total) {
        invoices.get(invoiceId).put("total", total).put("amount_due", total);
    }

    /** The {@code Stripe-Signature} header Stripe would send for {@code payload} signed with {@code secret} at {@code epochSeconds}. */
    public static String signature(String payload, String secret, long epochSeconds) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            String signed = HexFormat.of().formatHex(mac.doFinal((epochSeconds + "." + payload).getBytes(StandardCharsets.UTF_8)));
            return "t=" + epochSeconds + ",v1=" + signed;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private void handle(HttpServerRequest request, Buffer body) {
        String method = request.method().name();
        String path = request.path();
        Map<String, String> form = parseForm(body.toString(StandardCharsets.UTF_8));
        if (method.equals("GET")) {
            request.params().forEach(param -> form.put(param.getKey(), param.getValue())); // list filters come in the query
        }
        String key = request.getHeader("Idempotency-Key");
        String auth = request.getHeader("Authorization");
        int[] status = new int[1];
        String answer;
        Matcher pay = PAY.matcher(path);
        if (method.equals("GET") && pay.matches()) {
            // The hosted checkout page itself, for a browser: one button that pays.
            JsonObject session = sessions.get(pay.group(1));
            request.response().setStatusCode(session == null ? 404 : 200).putHeader("Content-Type", "text/html; charset=utf-8")
                    .end(session == null ? "<!DOCTYPE html><title>Not found</title><p>No such checkout session."
                            : "<!DOCTYPE html><html lang=\"en\"><title>Fake Stripe checkout</title><h1>Fake Stripe checkout</h1><p>"
                            + session.getLong("amount_total") + " " + session.getString("currency") + " minor units</p>"
                            + "<form method=\"post\"><button id=\"pay\" type=\"submit\">Pay</button></form></html>");
            return;
        }
        if (method.equals("POST") && pay.matches()) {
            // The customer pays on the hosted page: the event is delivered off the event loop; a browser goes back to the success URL.
            String sessionId = pay.group(1);
            boolean browser = String.valueOf(request.getHeader("Accept")).contains("text/html");
            vertx.<JsonObject>executeBlocking(() -> pay(sessionId)).onComplete(done -> {
                JsonObject event = done.succeeded() ? done.result() : null;
                if (event != null && browser) {
                    request.response().setStatusCode(303).putHeader("Location", sessions.get(sessionId).getString("success_url")).end();
                    return;
                }
                request.response().setStatusCode(event == null ? 404 : 200).putHeader("Content-Type", "application/json")
                        .end(event == null ? error("invalid_request_error", "resource_missing", "No open checkout session " + sessionId)
                                : new JsonObject().put("paid", true).put("session", sessionId).put("event", event.getString("id")).encode());
            });
            return;
        }
        if (auth == null || !auth.startsWith("Bearer sk_")) {
            status[0] = 401;
            answer = error("invalid_request_error", null, "Invalid API Key provided");
        } else {
            Failure failure = failures.stream().filter(f -> f.remaining.get() > 0 && f.path.matcher(path).matches()).findFirst().orElse(null);
            if (failure != null && failure.remaining.getAndDecrement() > 0) {
                status[0] = failure.status;
                answer = error("api_error", null, "injected failure");
            } else if (key != null && method.equals("POST")) {
                String fingerprint = method + " " + path + " " + new TreeMap<>(form);
                Saved saved = idempotent.get(key);
                if (saved != null && !saved.fingerprint().equals(fingerprint)) {
                    status[0] = 400;
                    answer = error("idempotency_error", null,
                            "Keys for idempotent requests can only be used with the same parameters they were first used with.");
                } else if (saved != null) {
                    status[0] = saved.status();
                    answer = saved.body();
                    request.response().putHeader("Idempotent-Replayed", "true");
                } else {
                    synchronized (this) {
                        answer = execute(method, path, form, status);
                    }
                    idempotent.put(key, new Saved(fingerprint, status[0], answer));
                }
            } else {
                synchronized (this) {
                    answer = execute(method, path, form, status);
                }
            }
        }
        requests.add(new Request(method, path, form, key, auth, request.getHeader("Stripe-Version"), status[0]));
        request.response().setStatusCode(status[0]).putHeader("Content-Type", "application/json")
                .putHeader("Request-Id", "req_" + ids.incrementAndGet()).end(answer);
    }

    private String execute(String method, String path, Map<String, String> form, int[] status) {
        status[0] = 200;
        Matcher finalize = FINALIZE.matcher(path);
        Matcher invoice = INVOICE.matcher(path);
        if (method.equals("POST") && path.equals("/v1/customers")) {
            var customer = new JsonObject().put("id", "cus_" + ids.incrementAndGet()).put("object", "customer")
                    .put("name", form.get("name")).put("metadata", metadata(form));
            customers.put(customer.getString("id"), customer);
            return customer.encode();
        }
        if (method.equals("POST") && path.equals("/v1/invoices")) {
            if (!customers.containsKey(form.get("customer"))) {
                status[0] = 400;
                return error("invalid_request_error", "resource_missing", "No such customer: '" + form.get("customer") + "'");
            }
            var created = new JsonObject().put("id", "in_" + ids.incrementAndGet()).put("object", "invoice").put("status", "draft")
                    .put("customer", form.get("customer")).put("currency", form.get("currency")).put("total", 0L).put("amount_due", 0L)
                    .put("metadata", metadata(form));
            invoices.put(created.getString("id"), created);
            return created.encode();
        }
        if (method.equals("POST") && path.equals("/v1/invoiceitems")) {
            JsonObject target = invoices.get(form.get("invoice"));
            if (!customers.containsKey(form.get("customer")) || target == null || form.get("amount") == null || form.get("currency") == null) {
                status[0] = 400;
                return error("invalid_request_error", "parameter_missing", "customer, invoice, amount and currency are required");
            }
            if (!"draft".equals(target.getString("status"))) {
                status[0] = 400;
                return error("invalid_request_error", "invoice_not_editable", "You can only add items to a draft invoice.");
            }
            var item = new JsonObject().put("id", "ii_" + ids.incrementAndGet()).put("object", "invoiceitem")
                    .put("amount", Long.parseLong(form.get("amount"))).put("currency", form.get("currency"))
                    .put("customer", form.get("customer")).put("invoice", form.get("invoice")).put("description", form.get("description"))
                    .put("metadata", metadata(form));
            items.put(item.getString("id"), item);
            return item.encode();
        }
        if (method.equals("POST") && finalize.matches()) {
            JsonObject target = invoices.get(finalize.group(1));
            if (target == null) {
                status[0] = 404;
                return error("invalid_request_error", "resource_missing", "No such invoice");
            }
            if (!"draft".equals(target.getString("status"))) {
                status[0] = 400;
                return error("invalid_request_error", "invoice_unexpected_state", "This invoice is already finalized.");
            }
            long total = items.values().stream().filter(i -> target.getString("id").equals(i.getString("invoice")))
                    .mapToLong(i -> i.getLong("amount")).sum();
            target.put("status", "open").put("total", total).put("amount_due", total);
            return target.encode();
        }
        if (method.equals("POST") && path.equals("/v1/checkout/sessions")) {
            return createCheckoutSession(form, status);
        }
        Matcher attach = ATTACH.matcher(path);
        if (method.equals("POST") && attach.matches()) {
            if (!TEST_METHODS.contains(attach.group(1))) {
                status[0] = 400;
                return error("invalid_request_error", "resource_missing", "No such PaymentMethod: '" + attach.group(1) + "'");
            }
            if (!customers.containsKey(form.get("customer"))) {
                status[0] = 400;
                return error("invalid_request_error", "resource_missing", "No such customer: '" + form.get("customer") + "'");
            }
            attached.put(attach.group(1), form.get("customer"));
            return new JsonObject().put("id", attach.group(1)).put("object", "payment_method").put("type", "card")
                    .put("customer", form.get("customer")).encode();
        }
        if (method.equals("POST") && path.equals("/v1/payment_intents")) {
            return createPaymentIntent(form, status);
        }
        if (method.equals("GET") && path.equals("/v1/checkout/sessions")) {
            // The list, filtered by payment_intent as Stripe does (the only filter the fake knows; without it, every session).
            String pi = form.get("payment_intent");
            var data = new JsonArray();
            sessions.values().stream().filter(session -> pi == null || pi.equals(session.getString("payment_intent"))).forEach(data::add);
            return new JsonObject().put("object", "list").put("url", "/v1/checkout/sessions").put("has_more", false).put("data", data).encode();
        }
        Matcher checkoutSession = CHECKOUT_SESSION.matcher(path);
        if (method.equals("GET") && checkoutSession.matches()) {
            JsonObject target = sessions.get(checkoutSession.group(1));
            if (target == null) {
                status[0] = 404;
                return error("invalid_request_error", "resource_missing", "No such checkout.session");
            }
            return target.encode();
        }
        if (method.equals("GET") && invoice.matches()) {
            JsonObject target = invoices.get(invoice.group(1));
            if (target == null) {
                status[0] = 404;
                return error("invalid_request_error", "resource_missing", "No such invoice");
            }
            return target.encode();
        }
        status[0] = 404;
        return error("invalid_request_error", null, "Unrecognized request URL (" + method + ": " + path + ")");
    }

    /**
     * An off-session charge of a saved payment method, confirmed at once: strict about the customer, the method being
     * attached to it, and the amount; Stripe's failing test methods answer 402 card errors; a success emits and delivers
     * {@code payment_intent.succeeded} (off the event loop, as Stripe sends events after answering).
     */
    private String createPaymentIntent(Map<String, String> form, int[] status) {
        String customer = form.get("customer");
        String paymentMethod = form.get("payment_method");
        long amount;
        try {
            amount = Long.parseLong(String.valueOf(form.get("amount")));
        } catch (NumberFormatException e) {
            status[0] = 400;
            return error("invalid_request_error", "parameter_invalid_integer", "amount must be an integer");
        }
        if (!customers.containsKey(customer) || paymentMethod == null || form.get("currency") == null || amount < 50) {
            status[0] = 400;
            return error("invalid_request_error", "parameter_missing", "customer, payment_method, currency and amount (at least 50) are required");
        }
        if (!customer.equals(attached.get(paymentMethod))) {
            status[0] = 400;
            return error("invalid_request_error", "resource_missing", "The PaymentMethod " + paymentMethod + " is not attached to customer " + customer);
        }
        if (!"true".equals(form.get("confirm")) || !"true".equals(form.get("off_session"))) {
            status[0] = 400;
            return error("invalid_request_error", "parameter_missing", "the fake charges saved methods off-session only: confirm=true and off_session=true");
        }
        String id = "pi_" + ids.incrementAndGet();
        var intent = new JsonObject().put("id", id).put("object", "payment_intent").put("amount", amount).put("currency", form.get("currency"))
                .put("customer", customer).put("payment_method", paymentMethod).put("metadata", metadata(form));
        paymentIntents.put(id, intent);
        String failure = FAILING_METHODS.get(paymentMethod);
        if (failure != null) {
            intent.put("status", "requires_payment_method").put("amount_received", 0L);
            status[0] = 402;
            var error = new JsonObject().put("type", "card_error").put("code", failure).put("message",
                    failure.equals("card_declined") ? "Your card was declined." : "This payment requires authentication.")
                    .put("payment_intent", intent.copy());
            return new JsonObject().put("error", error).encode();
        }
        intent.put("status", "succeeded").put("amount_received", amount);
        JsonObject event = event("payment_intent.succeeded", intent.copy());
        vertx.executeBlocking(() -> deliver(event));
        return intent.encode();
    }

    /** The PaymentIntents created, by id. */
    public Map<String, JsonObject> paymentIntents() {
        return Map.copyOf(paymentIntents);
    }

    /** A one-time payment session as Stripe creates it: strict about mode, the return URL and the one priced line item. */
    private String createCheckoutSession(Map<String, String> form, int[] status) {
        String mode = form.get("mode");
        String currency = form.get("line_items[0][price_data][currency]");
        String unitAmount = form.get("line_items[0][price_data][unit_amount]");
        String quantity = form.get("line_items[0][quantity]");
        if (!"payment".equals(mode) || form.get("success_url") == null || currency == null || unitAmount == null
                || form.get("line_items[0][price_data][product_data][name]") == null || quantity == null) {
            status[0] = 400;
            return error("invalid_request_error", "parameter_missing",
                    "mode=payment, success_url and line_items[0] with price_data (currency, unit_amount, product_data[name]) and quantity are required");
        }
        long amount;
        try {
            amount = Long.parseLong(unitAmount) * Long.parseLong(quantity);
        } catch (NumberFormatException e) {
            status[0] = 400;
            return error("invalid_request_error", "parameter_invalid_integer", "unit_amount and quantity must be integers");
        }
        if (amount < 50) {
            status[0] = 400;
            return error("invalid_request_error", "amount_too_small", "The Checkout Session's total amount must be at least 50 minor units.");
        }
        String id = "cs_test_" + ids.incrementAndGet();
        var session = new JsonObject().put("id", id).put("object", "checkout.session").put("mode", "payment").put("status", "open")
                .put("payment_status", "unpaid").put("amount_total", amount).put("currency", currency)
                .put("client_reference_id", form.get("client_reference_id")).put("customer_email", form.get("customer_email"))
                .put("success_url", form.get("success_url")).put("cancel_url", form.get("cancel_url"))
                .put("url", apiBase() + "/pay/" + id).put("metadata", metadata(form));
        sessions.put(id, session);
        return session.encode();
    }

    private static JsonObject metadata(Map<String, String> form) {
        var metadata = new JsonObject();
        form.forEach((name, value) -> {
            if (name.startsWith("metadata[") && name.endsWith("]")) {
                metadata.put(name.substring("metadata[".length(), name.length() - 1), value);
            }
        });
        return metadata;
    }

    private static Map<String, String> parseForm(String body) {
        var form = new LinkedHashMap<String, String>();
        if (body.isEmpty()) {
            return form;
        }
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            form.put(name, value);
        }
        return form;
    }

    private static String error(String type, String code, String message) {
        var error = new JsonObject().put("type", type).put("message", message);
        if (code != null) {
            error.put("code", code);
        }
        return new JsonObject().put("error", error).encode();
    }

    @Override
    public void close() {
        try {
            server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop the fake Stripe", e);
        }
    }
}

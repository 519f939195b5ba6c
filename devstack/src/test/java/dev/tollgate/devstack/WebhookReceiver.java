package dev.tollgate.devstack;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A webhook receiver on loopback that answers 204 and keeps what it got (the dev stack sends webhooks to loopback). */
record WebhookReceiver(HttpServer server, List<Delivery> deliveries) implements AutoCloseable {
    record Delivery(String signature, String body) {}

    static WebhookReceiver start() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        var receiver = new WebhookReceiver(server, new CopyOnWriteArrayList<>());
        server.createContext("/hooks", exchange -> {
            receiver.deliveries().add(new Delivery(exchange.getRequestHeaders().getFirst("X-Tollgate-Signature"),
                    new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        return receiver;
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hooks/tollgate";
    }

    Delivery last() {
        return deliveries.getLast();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

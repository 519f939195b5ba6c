package dev.tollgate.devstack;

import dev.tollgate.testkit.http.TestHttp;

import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Steady chat traffic through the dev stack's gateway while a fault test breaks something: four
 * requests a second with the demo key (below the demo plan's 600 a minute), every {@code streamEvery}-th
 * one streamed; remembers the request id of every 200 and counts everything else, keeping why.
 * {@link #close} lets the request in flight finish rather than interrupting it, so a request the
 * test abandoned is never counted as one the platform failed.
 */
final class ChatLoad implements AutoCloseable {
    private final Set<String> served = ConcurrentHashMap.newKeySet();
    private final AtomicInteger failed = new AtomicInteger();
    private final Queue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    ChatLoad(DevStack stack, int streamEvery) {
        thread = Thread.ofPlatform().name("chat-load").start(() -> {
            int i = 0;
            while (running.get()) {
                boolean stream = streamEvery > 0 && i++ % streamEvery == 0;
                try {
                    HttpResponse<String> answer = TestHttp.call("POST", stack.gatewayUrl() + "/v1/chat/completions", stack.apiKey(),
                            "{\"model\":\"fake-chat\",\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
                    if (answer.statusCode() == 200) {
                        served.add(answer.headers().firstValue("x-request-id").orElseThrow());
                    } else {
                        fail(answer.statusCode() + " " + answer.body());
                    }
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    fail(e.toString());
                }
            }
        });
    }

    private void fail(String why) {
        if (failed.incrementAndGet() <= 20) {
            failures.add(Instant.now() + " " + why);
        }
    }

    /** The first 20 failures, each with when and why (status and body, or the exception). */
    List<String> failures() {
        return List.copyOf(failures);
    }

    /** Requests answered 200 so far. */
    int served() {
        return served.size();
    }

    /** Requests that got anything else, or no answer. */
    int failed() {
        return failed.get();
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join(70_000);
        if (thread.isAlive()) {
            thread.interrupt();
            thread.join(10_000);
        }
    }
}

package dev.tollgate.service.http;

import jakarta.servlet.ServletException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.ActionCode;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Closes the connection after a response whose request body was not read to its end (a 401 for a
 * POST, a 413, a 408), instead of letting Tomcat drain the rest. Tomcat drains it on the worker
 * thread, blocking read after read: 230 unauthenticated POSTs that declare 1 MB and send a byte a
 * second held all 200 workers of the admin API (issue #19 item 6). The rest is drained only when it
 * is already here (no wait); otherwise the response is completed with {@code Connection: close} and
 * the connection closed at once, as RFC 9112 §9.6 allows a server that will not read the body.
 * An engine valve, so that it runs after error pages are rendered.
 */
public final class UnreadBodyValve extends ValveBase {

    public UnreadBodyValve() {
        super(true);
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        getNext().invoke(request, response);
        if (request.isAsync() || bodyAlreadyHere(request.getCoyoteRequest())) {
            return;
        }
        if (!response.isCommitted()) {
            response.setHeader("Connection", "close");
        }
        response.finishResponse();
        request.getCoyoteRequest().action(ActionCode.CLOSE_NOW, null);
    }

    /** True when the body was read to its end, or its unread rest is in the buffer already. */
    private static boolean bodyAlreadyHere(org.apache.coyote.Request request) {
        AtomicBoolean fullyRead = new AtomicBoolean();
        request.action(ActionCode.REQUEST_BODY_FULLY_READ, fullyRead);
        if (fullyRead.get()) {
            return true;
        }
        long length = request.getContentLengthLong();
        if (length < 0) {
            return false;
        }
        request.action(ActionCode.AVAILABLE, Boolean.TRUE);
        return request.getAvailable() >= length - request.getBytesRead();
    }
}

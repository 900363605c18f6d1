package dev.quiver.host.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.api.ContentResponse;
import org.eclipse.jetty.client.api.Request;
import org.eclipse.jetty.client.util.FutureResponseListener;
import org.eclipse.jetty.client.util.StringRequestContent;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;

/**
 * The tests' HTTP/1.1 calls to a Quiver service that many threads make at once: Eclipse Jetty's
 * {@link HttpClient}, started here, stopped by {@link #close()}.
 *
 * <p>Not {@code java.net.http}: the JDK's HTTP/1.1 connection pool (17.0.15 here) can hand the
 * response to a request sent on a reused connection to the pool's idle-connection watcher, which
 * closes the connection ("Data received while in pool"; the request fails with "HTTP/1.1 header
 * parser received no bytes", JDK-8338569 and JDK-8357639, not fully fixed in 17). The JDK retries
 * such a request only when its method is idempotent: a POST fails although the service processed
 * it. Tests that count what the service did must neither see that failure nor retry the POST.
 * Jetty's client ties the exchange to the connection before it writes the request, so the answer to
 * a request on a reused connection always reaches that request. A call is sent once, never retried.
 */
public final class HttpCalls implements AutoCloseable {

    /** The largest answer body a call reads (a larger one fails the call). */
    private static final int MAX_ANSWER_BYTES = 64 * 1024 * 1024;

    /**
     * A call's answer.
     *
     * @param status the HTTP status
     * @param body the body as text (UTF-8 unless the answer names another charset), empty if none
     */
    public record Reply(int status, String body) {}

    /** A call that got no answer within its timeout. */
    public static final class TimedOut extends IOException {
        private static final long serialVersionUID = 1L;

        TimedOut(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final HttpClient client;
    private final Duration timeout;

    /**
     * Starts a client.
     *
     * @param maxConnections connections it may open to one service at once; at least the number of
     *     calls the test makes at the same time, else a call waits in the client's queue for a
     *     connection and that wait counts against its timeout
     * @param timeout a call's whole time: connecting, queueing, sending and reading the answer;
     *     also the longest a connection may stay silent while a call waits for its answer
     * @throws Exception when Jetty's client does not start
     */
    public HttpCalls(int maxConnections, Duration timeout) throws Exception {
        if (maxConnections < 1) {
            throw new IllegalArgumentException(
                    "maxConnections must be >= 1, was " + maxConnections);
        }
        this.timeout = timeout;
        HttpClient c = new HttpClient();
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("test-http");
        threads.setDaemon(true); // a test that fails before close() leaves no thread behind
        c.setExecutor(threads);
        c.setScheduler(new ScheduledExecutorScheduler("test-http-timer", true));
        c.setMaxConnectionsPerDestination(maxConnections);
        c.setConnectTimeout(timeout.toMillis());
        // Jetty closes a connection silent for its idle timeout (30 s by default) even while a
        // call waits for its answer: no shorter than a call's timeout.
        c.setIdleTimeout(timeout.toMillis());
        // As the JDK client sent them: no redirect followed, no Accept-Encoding (answers come
        // uncompressed; AnswerCompressionTest tests compression).
        c.setFollowRedirects(false);
        c.getContentDecoderFactories().clear();
        c.start();
        this.client = c;
    }

    /**
     * One call, sent once.
     *
     * @param method the HTTP method
     * @param uri the absolute URI, e.g. {@code http://127.0.0.1:8080/v1/decisions}
     * @param json the JSON body, or {@code null} for none; sent with {@code Content-Type:
     *     application/json} either way
     * @throws TimedOut when no whole answer came within the timeout
     * @throws IOException when the call failed otherwise (the cause is Jetty's failure)
     * @throws InterruptedException when interrupted while waiting (the call is aborted)
     */
    public Reply send(String method, String uri, String json)
            throws IOException, InterruptedException {
        Request r =
                client.newRequest(uri)
                        .method(method)
                        .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                        .headers(h -> h.put(HttpHeader.CONTENT_TYPE, "application/json"));
        if (json != null) {
            r.body(new StringRequestContent("application/json", json, StandardCharsets.UTF_8));
        }
        FutureResponseListener answer = new FutureResponseListener(r, MAX_ANSWER_BYTES);
        r.send(answer);
        ContentResponse a;
        try {
            a = answer.get(); // ends within the request's timeout
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            String what = method + " " + uri;
            if (cause instanceof TimeoutException) {
                throw new TimedOut(
                        what + ": no answer within " + timeout.toMillis() + " ms", cause);
            }
            throw new IOException(what + " failed: " + cause, cause);
        } catch (InterruptedException e) {
            r.abort(e);
            throw e;
        }
        return new Reply(a.getStatus(), a.getContentAsString());
    }

    /** Stops the client; a call still running fails. */
    @Override
    public void close() throws IOException {
        try {
            client.stop();
        } catch (Exception e) {
            throw new IOException("the test HTTP client did not stop", e);
        }
    }
}

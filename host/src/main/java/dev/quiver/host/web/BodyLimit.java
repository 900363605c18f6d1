package dev.quiver.host.web;

import io.javalin.http.ContentTooLargeResponse;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.IOException;

/**
 * The request body limit for bodies sent without a {@code Content-Length} ({@code
 * Transfer-Encoding: chunked}). Javalin 6 refuses a body over {@code http.maxRequestSize} by its
 * declared length only, and reads a chunked body whole whatever its size; behind this filter such a
 * body is read through a stream that throws Javalin's {@link ContentTooLargeResponse} on the first
 * byte past the limit, so it is refused with the same 413 JSON error as a declared one, and never
 * held in memory beyond the limit.
 */
final class BodyLimit implements Filter {

    private final long maxBytes;

    /**
     * A filter refusing chunked bodies over a limit.
     *
     * @param maxBytes the largest body accepted, bytes, {@code >= 0}
     * @throws IllegalArgumentException if {@code maxBytes < 0}
     */
    BodyLimit(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must be >= 0: " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request instanceof HttpServletRequest http && http.getContentLengthLong() < 0) {
            chain.doFilter(new Limited(http, maxBytes), response);
        } else {
            chain.doFilter(request, response);
        }
    }

    /** A request whose body stream stops at the limit. */
    private static final class Limited extends HttpServletRequestWrapper {
        private final long maxBytes;
        private ServletInputStream in;

        Limited(HttpServletRequest request, long maxBytes) {
            super(request);
            this.maxBytes = maxBytes;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (in == null) {
                in = new LimitedStream(super.getInputStream(), maxBytes);
            }
            return in;
        }
    }

    /** Counts the bytes read; the first past the limit throws. */
    private static final class LimitedStream extends ServletInputStream {
        private final ServletInputStream in;
        private final long maxBytes;
        private long read;

        LimitedStream(ServletInputStream in, long maxBytes) {
            this.in = in;
            this.maxBytes = maxBytes;
        }

        private void count(long n) {
            read += n;
            if (read > maxBytes) {
                throw new ContentTooLargeResponse();
            }
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            // At most one byte past the limit is asked for: enough to know it was passed.
            long room = maxBytes - read + 1;
            int n = in.read(b, off, (int) Math.min(len, Math.max(room, 1)));
            if (n > 0) {
                count(n);
            }
            return n;
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}

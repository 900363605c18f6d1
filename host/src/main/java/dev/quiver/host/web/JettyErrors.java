package dev.quiver.host.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.HttpStatus;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/**
 * Jetty's own refusals in the API's JSON error shape, {@code {"error": CODE, "message":
 * "[Quiver/CODE] ..."}}: the ones Jetty answers before a request reaches Javalin (a malformed URI
 * or percent-escape: 400, a URI too long: 414, headers too large: 431, ...) and any error page
 * Jetty would write as HTML. {@code CODE} is the status' name, as Javalin's own refusals get in
 * {@link QuiverServer} (e.g. {@code URI_TOO_LONG}).
 */
final class JettyErrors extends ErrorHandler {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TYPE = "application/json";

    /** The answer to a request Jetty could not parse (no servlet, no Javalin). */
    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, TYPE);
        return ByteBuffer.wrap(body(status, reason));
    }

    /** Any other error page Jetty writes itself. */
    @Override
    protected void generateAcceptableResponse(
            Request baseRequest,
            HttpServletRequest request,
            HttpServletResponse response,
            int code,
            String message)
            throws IOException {
        baseRequest.setHandled(true);
        response.setContentType(TYPE);
        byte[] bytes = body(code, message);
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }

    static byte[] body(int status, String reason) {
        HttpStatus known = HttpStatus.forStatus(status);
        String code = known == HttpStatus.UNKNOWN ? "HTTP_" + status : known.name();
        String why = reason == null || reason.isBlank() ? known.getMessage() : reason;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", code);
        body.put(
                "message",
                String.format(
                        Locale.ROOT,
                        "[Quiver/%s] the request was refused before it reached the API: %s",
                        code,
                        why));
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            // A map of two strings always serializes; say what happened rather than nothing.
            return ("{\"error\":\"" + code + "\"}").getBytes(StandardCharsets.UTF_8);
        }
    }
}

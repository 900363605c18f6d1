package dev.quiver.host.web;

import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Safe by default: on a loopback address every request is served as before; bound to any other
 * address, a state-changing request (POST, PUT, PATCH, DELETE) must carry {@code Authorization:
 * Bearer TOKEN} with the configured token, and with no token configured every such request is
 * refused (403, {@code ACTIONS_DISABLED}). A wrong or missing token is 401 ({@code UNAUTHORIZED}).
 * The token is compared in constant time and never echoed. Reads (GET, the event streams) stay
 * open. No cookie is read or set.
 */
final class ActionGuard {

    private final boolean loopback;
    private final Optional<byte[]> token;
    private final String host;

    private ActionGuard(String host, boolean loopback, Optional<String> token) {
        this.host = host;
        this.loopback = loopback;
        this.token = token.map(t -> t.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The guard of a service bound to {@code host}.
     *
     * @param host the bound address, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
     * @param token the configured token, or empty
     * @return the guard
     * @throws IllegalArgumentException if {@code host} does not resolve
     */
    static ActionGuard of(String host, Optional<String> token) {
        boolean loopback;
        try {
            loopback = InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --host '" + host + "' does not resolve: " + e.getMessage(),
                    e);
        }
        return new ActionGuard(host, loopback, token);
    }

    /** Whether state-changing requests need the token (bound beyond loopback). */
    boolean tokenRequired() {
        return !loopback;
    }

    /** Whether a token is configured (its value is never shown). */
    boolean tokenConfigured() {
        return token.isPresent();
    }

    /**
     * Checks a request; a refused one gets its answer and no other handler runs.
     *
     * @param ctx the request
     * @param answer writes the JSON error
     */
    void check(Context ctx, SessionRoutes.Answer answer) {
        if (loopback || !changesState(ctx.method())) {
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        if (token.isEmpty()) {
            body.put("error", "ACTIONS_DISABLED");
            body.put("field", "Authorization");
            body.put(
                    "message",
                    "[Quiver/ACTIONS_DISABLED] this service is bound to "
                            + host
                            + ", beyond loopback, and has no API token: state-changing requests"
                            + " are refused. Set "
                            + DashboardSettings.TOKEN_VARIABLE
                            + " before `quiver serve` and send `Authorization: Bearer TOKEN`");
            answer.write(ctx, 403, body);
            ctx.skipRemainingHandlers();
            return;
        }
        String header = ctx.header("Authorization");
        byte[] given =
                header != null && header.startsWith("Bearer ")
                        ? header.substring("Bearer ".length())
                                .strip()
                                .getBytes(StandardCharsets.UTF_8)
                        : new byte[0];
        if (!MessageDigest.isEqual(given, token.get())) {
            body.put("error", "UNAUTHORIZED");
            body.put("field", "Authorization");
            body.put(
                    "message",
                    "[Quiver/UNAUTHORIZED] "
                            + (header == null ? "no Authorization header" : "a wrong token")
                            + ": this service is bound to "
                            + host
                            + "; state-changing requests need `Authorization: Bearer TOKEN` with"
                            + " the token set in "
                            + DashboardSettings.TOKEN_VARIABLE);
            answer.write(ctx, 401, body);
            ctx.skipRemainingHandlers();
        }
    }

    private static boolean changesState(HandlerType method) {
        return method == HandlerType.POST
                || method == HandlerType.PUT
                || method == HandlerType.PATCH
                || method == HandlerType.DELETE;
    }
}

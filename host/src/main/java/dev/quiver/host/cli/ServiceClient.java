package dev.quiver.host.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code --server URL} option of the commands that steer a running {@code quiver serve} over
 * its HTTP API ({@code quiver rollout}, {@code training}, {@code halt}, {@code resume}), a picocli
 * mixin, and the one way they call it: the JSON answer printed; exit 0 on 2xx, 2 on 4xx (the
 * service refused the input, its answer names the field), 1 when the service cannot be reached or
 * fails.
 */
final class ServiceClient {

    @Option(
            names = "--server",
            paramLabel = "URL",
            defaultValue = "http://127.0.0.1:8080",
            scope = ScopeType.INHERIT,
            description = "The service (default: ${DEFAULT-VALUE}).")
    String server = "http://127.0.0.1:8080";

    /**
     * Sends a request and prints the answer.
     *
     * @param sub the command that asks (its output and error streams)
     * @param method the HTTP method
     * @param path the path, e.g. {@code /v1/rollouts}
     * @param body a JSON body, or null
     * @return the exit code: 0 on 2xx, 2 on 4xx, 1 otherwise
     */
    int call(CommandSpec sub, String method, String path, String body) {
        PrintWriter out = sub.commandLine().getOut();
        PrintWriter err = sub.commandLine().getErr();
        String base = server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        b =
                body == null
                        ? b.method(method, HttpRequest.BodyPublishers.noBody())
                        : b.header("Content-Type", "application/json")
                                .method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r;
        try {
            r =
                    HttpClient.newBuilder()
                            .connectTimeout(Duration.ofSeconds(5))
                            .build()
                            .send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            err.printf(
                    "[Quiver/SERVER_UNREACHABLE] %s %s: %s (is `quiver serve` running there? --server URL)%n",
                    method, base + path, e.getMessage() == null ? e.toString() : e.getMessage());
            err.flush();
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
        String text = r.body();
        try {
            JsonNode n = RolloutCommand.JSON.readTree(text);
            text = RolloutCommand.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
        } catch (IOException e) {
            // not JSON: print as is
        }
        if (r.statusCode() / 100 == 2) {
            out.println(text);
            out.flush();
            return 0;
        }
        err.printf(Locale.ROOT, "HTTP %d from %s %s%n%s%n", r.statusCode(), method, path, text);
        err.flush();
        return r.statusCode() / 100 == 4 ? 2 : 1;
    }
}

package dev.quiver.host.cli;

import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Every stepped bar's decision as CSV: {@code bar_time, p_up} then per policy {@code
 * <policy>_fraction, <policy>_equity}. Numbers are written with {@link Double#toString} (shortest
 * exact round trip), so two runs can be compared bar by bar to the last bit; {@code p_up} is empty
 * when there was no fused signal.
 */
final class DecisionsCsv implements AutoCloseable {

    private final BufferedWriter out;

    private DecisionsCsv(BufferedWriter out) {
        this.out = out;
    }

    static DecisionsCsv create(Path file, List<String> policies) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder("bar_time,p_up");
        for (String p : policies) {
            h.append(',').append(p).append("_fraction,").append(p).append("_equity");
        }
        w.write(h.append('\n').toString());
        return new DecisionsCsv(w);
    }

    void write(Step s) {
        StringBuilder b = new StringBuilder(s.barTime().toString()).append(',');
        if (s.signal() != null) {
            b.append(s.signal().probabilityUp());
        }
        for (PolicyStep p : s.policies()) {
            b.append(',').append(p.decision().fraction()).append(',').append(p.equity());
        }
        try {
            out.write(b.append('\n').toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}

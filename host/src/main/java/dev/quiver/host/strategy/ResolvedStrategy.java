package dev.quiver.host.strategy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A verified strategy bundle in a local folder, and where it came from.
 *
 * @param requested what was asked for: {@code models:/NAME@ALIAS}, {@code models:/NAME/VERSION} or
 *     a folder
 * @param bundle the verified bundle (every file's sha256 checked against the manifest; for a
 *     registered version the manifest's sha256 against the version's tag too)
 * @param name registered model name; empty for a folder that was never registered
 * @param version version number; empty for a folder that was never registered
 * @param runId the run that registered it; empty if unknown
 * @param tags the version's tags (empty for a folder)
 * @param smoke the version's recorded decisions ({@link StrategySmoke}), verified against its tag,
 *     if it has them
 * @param origin {@code registry} (asked the server), {@code cache} (the server was unreachable: the
 *     last verified cached version), {@code local} (no tracking URI: the cache is the registry) or
 *     {@code folder}
 * @param note why the cache was used, else empty
 */
public record ResolvedStrategy(
        String requested,
        StrategyBundle bundle,
        String name,
        String version,
        String runId,
        Map<String, String> tags,
        Optional<Path> smoke,
        String origin,
        String note) {

    /** Copies the tags. */
    public ResolvedStrategy {
        tags = Map.copyOf(tags);
    }

    /**
     * The bundle folder, ready for {@link StrategyBundle#open} and {@link BundleLoader#load}.
     *
     * @return the folder
     */
    public Path dir() {
        return bundle.dir();
    }

    /**
     * The pinned reference.
     *
     * @return {@code models:/NAME/VERSION}, or the folder for an unregistered bundle
     */
    public String pinned() {
        return name.isEmpty() ? bundle.dir().toString() : "models:/" + name + "/" + version;
    }

    /**
     * The recorded decisions, read.
     *
     * @return the smoke set, or empty if the version has none
     * @throws UncheckedIOException if the file cannot be read
     */
    public Optional<StrategySmoke> readSmoke() {
        if (smoke.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(StrategySmoke.read(smoke.get()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + smoke.get(), e);
        }
    }
}

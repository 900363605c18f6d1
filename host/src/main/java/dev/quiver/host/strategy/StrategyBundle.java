package dev.quiver.host.strategy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.host.registry.ModelFormat;
import dev.quiver.host.registry.ModelStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A strategy bundle on disk, read and verified: the one versioned artifact with everything a
 * decision needs beyond plugin code (see {@code docs/strategy-bundles.md}). A folder with {@code
 * manifest.json} and the components' files:
 *
 * <pre>
 * manifest.json                   format quiver-strategy/1, readable JSON (see {@link BundleWriter})
 * sources/&lt;name&gt;/...         each trainable source's model file and sidecar (exportModel)
 * ensemble/&lt;name&gt;.state.json  the ensemble's fitted state (exportState)
 * sizing/&lt;name&gt;/...           each learning policy's fitted state (exportState)
 * </pre>
 *
 * <p>{@link #open} refuses, with {@code BAD_BUNDLE} naming the file and what is wrong, before any
 * plugin sees a byte: a missing or unreadable manifest, another format, a path that escapes the
 * folder (absolute, {@code ..}, a symbolic link), a file listed but missing, a file present but not
 * listed, a sha256 mismatch, a file not in a non-executable format the host accepts (a Python
 * pickle, a zip), a truncated file (its sha256 differs). {@link #checkCompatible} and {@link
 * #checkFresh} refuse a bundle fitted with other plugin or capability versions or another feature
 * schema, and an expired one.
 */
public final class StrategyBundle {

    /** The manifest's file name. */
    public static final String MANIFEST = "manifest.json";

    /** The manifest format this host reads and writes. */
    public static final String FORMAT = "quiver-strategy/1";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final JsonNode manifest;
    private final Map<String, Object> provenance;

    private StrategyBundle(Path dir, JsonNode manifest, String manifestSha256) {
        this.dir = dir;
        this.manifest = manifest;
        this.provenance = provenance(manifestSha256);
    }

    /**
     * Reads and verifies a bundle folder (format, paths, listed files and their sha256, formats).
     *
     * @param dir the bundle folder
     * @return the bundle
     * @throws QuiverInputException with code {@code BAD_BUNDLE} naming the file and the problem
     */
    public static StrategyBundle open(Path dir) {
        Path root;
        try {
            root = dir.toRealPath();
        } catch (IOException e) {
            throw bad(dir, "folder", dir.toString(), "does not exist or cannot be read: " + e);
        }
        Path manifestFile = root.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile, LinkOption.NOFOLLOW_LINKS)) {
            throw bad(dir, MANIFEST, null, "is missing");
        }
        byte[] manifestBytes;
        try {
            manifestBytes = Files.readAllBytes(manifestFile);
        } catch (IOException e) {
            throw bad(dir, MANIFEST, null, "cannot be read: " + e);
        }
        JsonNode m;
        try {
            m = JSON.readTree(manifestBytes);
        } catch (IOException e) {
            throw bad(dir, MANIFEST, null, "is not valid JSON (truncated?): " + e.getMessage());
        }
        if (m == null || !m.isObject()) {
            throw bad(dir, MANIFEST, null, "is not a JSON object");
        }
        if (!FORMAT.equals(m.path("format").asText())) {
            throw bad(
                    dir,
                    MANIFEST + ": format",
                    m.path("format").asText(),
                    "is not " + FORMAT + " (a bundle this host cannot read)");
        }
        JsonNode files = m.path("files");
        if (!files.isObject() || files.isEmpty()) {
            throw bad(dir, MANIFEST + ": files", null, "lists no files");
        }
        Map<String, String> listed = new LinkedHashMap<>();
        for (var e : files.properties()) {
            listed.put(e.getKey(), e.getValue().asText());
        }
        for (var e : listed.entrySet()) {
            Path file = contained(dir, root, e.getKey());
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw bad(dir, e.getKey(), null, "is listed in the manifest but missing");
            }
            String name = file.getFileName().toString();
            Optional<ModelFormat> format = ModelFormat.byFileName(name);
            if (format.isEmpty()) {
                throw bad(
                        dir,
                        e.getKey(),
                        name,
                        "is not in a format the host accepts (.json, .onnx, .ubj, .txt, .cbm;"
                                + " never pickle, joblib or other executable formats)");
            }
            String sha;
            try {
                sha = ModelStore.sha256(file);
                Optional<String> problem = format.get().contentProblem(file);
                if (problem.isPresent()) {
                    throw bad(dir, e.getKey(), null, problem.get());
                }
            } catch (IOException io) {
                throw bad(dir, e.getKey(), null, "cannot be read: " + io);
            }
            if (!sha.equalsIgnoreCase(e.getValue())) {
                throw bad(
                        dir,
                        e.getKey(),
                        sha,
                        "has sha256 "
                                + sha
                                + " but the manifest says "
                                + e.getValue()
                                + " (a damaged, truncated or replaced file)");
            }
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (Files.isSymbolicLink(p)) {
                    throw bad(dir, root.relativize(p).toString(), null, "is a symbolic link");
                }
                if (Files.isRegularFile(p) && !p.equals(manifestFile)) {
                    String rel = root.relativize(p).toString().replace('\\', '/');
                    if (!listed.containsKey(rel)) {
                        throw bad(
                                dir,
                                rel,
                                null,
                                "is in the bundle folder but not listed in the manifest");
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list bundle folder " + dir, e);
        }
        return new StrategyBundle(root, m, sha256(manifestBytes));
    }

    /** A manifest path resolved inside the folder, or refused. */
    static Path contained(Path dir, Path root, String relative) {
        if (relative.isBlank()
                || relative.startsWith("/")
                || relative.startsWith("\\")
                || relative.contains("\\")
                || relative.matches("^[A-Za-z]:.*")) {
            throw bad(dir, relative, relative, "is not a relative path inside the bundle");
        }
        for (String part : relative.split("/", -1)) {
            if (part.isEmpty() || part.equals("..") || part.equals(".")) {
                throw bad(dir, relative, relative, "escapes the bundle folder");
            }
        }
        Path p = root.resolve(relative).normalize();
        if (!p.startsWith(root)) {
            throw bad(dir, relative, relative, "escapes the bundle folder");
        }
        return p;
    }

    /**
     * Refuses a bundle whose feature schema, plugin versions or capability versions differ from
     * what is loaded.
     *
     * @param schema the host's feature schema
     * @param pluginVersions loaded plugin id to version
     * @param capabilityVersions loaded capability ({@code kind:name}) to version
     * @throws QuiverInputException with code {@code BUNDLE_MISMATCH} naming the mismatch
     */
    public void checkCompatible(
            FeatureSchema schema,
            Map<String, String> pluginVersions,
            Map<String, String> capabilityVersions) {
        String hash = manifest.path("feature_schema").path("hash").asText();
        if (!schema.hash().equals(hash)) {
            throw mismatch(
                    "feature_schema.hash",
                    hash,
                    "the bundle was fitted on features "
                            + manifest.path("feature_schema").path("name").asText()
                            + " v"
                            + manifest.path("feature_schema").path("version").asText()
                            + " (hash "
                            + hash
                            + "); this host computes "
                            + schema.name()
                            + " v"
                            + schema.version()
                            + " (hash "
                            + schema.hash()
                            + ")");
        }
        for (var e : fields(manifest.path("plugins")).entrySet()) {
            String loaded = pluginVersions.get(e.getKey());
            if (loaded == null) {
                throw mismatch(
                        "plugins." + e.getKey(),
                        e.getValue(),
                        "plugin '" + e.getKey() + "' " + e.getValue() + " is not loaded");
            }
            if (!loaded.equals(e.getValue())) {
                throw mismatch(
                        "plugins." + e.getKey(),
                        e.getValue(),
                        "plugin '"
                                + e.getKey()
                                + "' was "
                                + e.getValue()
                                + " when the bundle was fitted; "
                                + loaded
                                + " is loaded");
            }
        }
        for (Component c : components()) {
            String key = c.kind() + ":" + c.name();
            String loaded = capabilityVersions.get(key);
            if (loaded == null) {
                throw mismatch(
                        "components." + key,
                        c.version(),
                        c.kind() + " '" + c.name() + "' is not provided by any loaded plugin");
            }
            if (!loaded.equals(c.version())) {
                throw mismatch(
                        "components." + key,
                        c.version(),
                        c.kind()
                                + " '"
                                + c.name()
                                + "' was version "
                                + c.version()
                                + " when the bundle was fitted; "
                                + loaded
                                + " is loaded");
            }
        }
    }

    /**
     * Refuses an expired bundle.
     *
     * @param now the time to judge at
     * @param maxAgeOverride a maximum age that replaces the manifest's, or empty
     * @throws QuiverInputException with code {@code BUNDLE_EXPIRED} naming the age and the limit
     */
    public void checkFresh(Instant now, Optional<Duration> maxAgeOverride) {
        Instant expires = expiresAt(maxAgeOverride);
        if (!now.isBefore(expires)) {
            throw new QuiverInputException(
                    "BUNDLE_EXPIRED",
                    "max_age",
                    "strategy bundle " + id(),
                    maxAge(maxAgeOverride),
                    "expired at "
                            + expires
                            + " (its data ended at "
                            + servesFrom()
                            + ", maximum age "
                            + maxAge(maxAgeOverride)
                            + "); fit a new bundle or raise the maximum age");
        }
    }

    /**
     * When the bundle expires: its maximum age after the end of the data it was fitted on (the
     * first bar it serves). Decisions on bars from then on abstain, in the backtest and live alike
     * (the bar's time decides, so a replay abstains on the same bars).
     *
     * @param maxAgeOverride a maximum age that replaces the manifest's, or empty
     * @return {@code serves_from + maxAge}
     */
    public Instant expiresAt(Optional<Duration> maxAgeOverride) {
        return servesFrom().plus(maxAge(maxAgeOverride));
    }

    /**
     * The reason an expired bundle's decisions give.
     *
     * @param maxAgeOverride a maximum age that replaces the manifest's, or empty
     * @return e.g. {@code strategy bundle quiver-strategy/7 expired at ... -> flat}
     */
    public String expiryReason(Optional<Duration> maxAgeOverride) {
        return "strategy bundle "
                + id()
                + " expired at "
                + expiresAt(maxAgeOverride)
                + " (maximum age "
                + maxAge(maxAgeOverride)
                + " after its data ended at "
                + servesFrom()
                + ") -> flat";
    }

    private Duration maxAge(Optional<Duration> override) {
        return override.orElseGet(() -> Duration.parse(manifest.path("max_age").asText("P30D")));
    }

    /**
     * The components in the manifest.
     *
     * @return sources, then the ensemble, then the policies
     */
    public List<Component> components() {
        List<Component> out = new ArrayList<>();
        for (JsonNode s : manifest.path("components").path("sources")) {
            out.add(Component.of("prediction", s));
        }
        out.add(Component.of("ensemble", manifest.path("components").path("ensemble")));
        for (JsonNode s : manifest.path("components").path("policies")) {
            out.add(Component.of("sizing", s));
        }
        return out;
    }

    /**
     * A component of the manifest.
     *
     * @param kind {@code prediction}, {@code ensemble} or {@code sizing}
     * @param name the capability's name
     * @param plugin the plugin that provides it
     * @param version the capability's version
     * @param files the component's files, relative to the bundle folder (empty: stateless)
     */
    public record Component(
            String kind, String name, String plugin, String version, List<String> files) {
        static Component of(String kind, JsonNode n) {
            List<String> files = new ArrayList<>();
            for (JsonNode f : n.path("files")) {
                files.add(f.asText());
            }
            return new Component(
                    kind,
                    n.path("name").asText(),
                    n.path("plugin").asText(),
                    n.path("version").asText(),
                    List.copyOf(files));
        }
    }

    /**
     * A file of the bundle.
     *
     * @param relative a path the manifest lists
     * @return the file inside the folder
     */
    public Path file(String relative) {
        return contained(dir, dir, relative);
    }

    /**
     * The bundle folder.
     *
     * @return the real path
     */
    public Path dir() {
        return dir;
    }

    /**
     * The manifest.
     *
     * @return the parsed manifest (read-only by convention)
     */
    public JsonNode manifest() {
        return manifest;
    }

    /**
     * An identifier for messages and provenance: the registered name and version when the bundle
     * came from a registry, else the folder.
     *
     * @return e.g. {@code quiver-strategy/7} or a path
     */
    public String id() {
        JsonNode r = manifest.path("registered");
        return r.isObject()
                ? r.path("name").asText() + "/" + r.path("version").asText()
                : dir.toString();
    }

    /**
     * When it was fitted.
     *
     * @return the manifest's {@code created}
     */
    public Instant created() {
        return Instant.parse(manifest.path("created").asText());
    }

    /**
     * The first bar the bundle may decide: the bar after its data's last bar.
     *
     * @return the manifest's {@code serves_from}
     */
    public Instant servesFrom() {
        return Instant.parse(manifest.path("serves_from").asText());
    }

    /**
     * The manifest's trading settings.
     *
     * @return the {@code settings} object
     */
    public JsonNode settings() {
        return manifest.path("settings");
    }

    /**
     * Provenance of a decision made with this bundle (made once, at {@link #open}: every decision
     * names the manifest that was verified and loaded).
     *
     * @return bundle id, sha256 of the manifest as read by {@link #open}, created, components and
     *     their versions; unmodifiable
     */
    public Map<String, Object> provenance() {
        return provenance;
    }

    private Map<String, Object> provenance(String manifestSha256) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("bundle", id());
        JsonNode r = manifest.path("registered");
        if (r.isObject()) {
            p.put("name", r.path("name").asText());
            p.put("version", r.path("version").asText());
            p.put("run_id", r.path("run_id").asText(null));
        }
        p.put("manifest_sha256", manifestSha256);
        p.put("created", manifest.path("created").asText());
        Map<String, String> components = new LinkedHashMap<>();
        for (Component c : components()) {
            components.put(c.kind() + ":" + c.name(), c.plugin() + " " + c.version());
        }
        p.put("components", Collections.unmodifiableMap(components));
        return Collections.unmodifiableMap(p);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> fields(JsonNode n) {
        Map<String, String> m = new LinkedHashMap<>();
        for (var e : n.properties()) {
            m.put(e.getKey(), e.getValue().asText());
        }
        return m;
    }

    static ObjectNode newObject() {
        return JSON.createObjectNode();
    }

    static ObjectMapper json() {
        return JSON;
    }

    private QuiverInputException mismatch(String field, String value, String problem) {
        return new QuiverInputException(
                "BUNDLE_MISMATCH", field, "strategy bundle " + id(), value, problem);
    }

    private static QuiverInputException bad(Path dir, String field, Object value, String problem) {
        return new QuiverInputException(
                "BAD_BUNDLE", field, "strategy bundle " + dir, value, problem);
    }
}

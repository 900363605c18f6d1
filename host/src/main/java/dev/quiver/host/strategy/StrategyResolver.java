package dev.quiver.host.strategy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.registry.ModelStore;
import dev.quiver.host.registry.ModelUri;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns {@code models:/NAME@ALIAS}, {@code models:/NAME/VERSION} or a folder into a verified local
 * strategy bundle ({@link ResolvedStrategy}).
 *
 * <p>A registered version (see {@link BundleRegistrar}) is asked of the registry, refused unless
 * its tag {@value BundleRegistrar#TAG_KIND} is {@value BundleRegistrar#KIND}, and its files (the
 * version's source folder: {@code bundle/...} and {@code smoke.json}, nothing else) are listed and
 * every name checked before anything is downloaded. They are downloaded into a staging folder of
 * the cache and verified there: {@link StrategyBundle#open} (every file's sha256 against the
 * manifest, no unlisted file), the manifest's sha256 against the version's tag {@value
 * BundleRegistrar#TAG_MANIFEST_SHA256}, the smoke file's against {@code quiver.smoke_sha256} and
 * its content. Only then is {@value StrategyBundle#REGISTRY_FILE} written into the bundle (name,
 * version, run, manifest sha256: the bundle's {@link StrategyBundle#id()} and provenance then name
 * the version) and the folder moved into place. A refused version never appears in the cache.
 *
 * <pre>
 * CACHE/NAME/aliases.json                 {"challenger": "3", ...}: last alias targets verified
 * CACHE/NAME/VERSION/quiver-version.json  name, version, run_id, source, tags
 * CACHE/NAME/VERSION/smoke.json           recorded decisions ({@link StrategySmoke})
 * CACHE/NAME/VERSION/bundle/...           the bundle, plus registered.json
 * </pre>
 *
 * <p>Every read of the cache verifies the folder again. If the registry is unreachable (connection
 * refused, timeouts, 5xx after the retries) or refuses the credentials (401/403), the last verified
 * cached version of the alias (or the requested version) is served with {@code origin = cache} and
 * a note that says so; a definite answer (unknown alias or version) is never papered over with the
 * cache. Without a tracking server the cache is the registry ({@code origin = local}). A folder is
 * opened and verified as it is ({@code origin = folder}).
 *
 * <p>For an alias poller: {@link #currentVersion} asks where an alias points without downloading;
 * call {@link #resolve} with the pinned {@code models:/NAME/VERSION} when it moved.
 */
public final class StrategyResolver {

    private static final Logger LOG = LoggerFactory.getLogger(StrategyResolver.class);

    /** Version metadata file of a cached version. */
    public static final String VERSION_FILE = "quiver-version.json";

    /** A path segment we accept from the registry: plain, no leading dot. */
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,200}");

    /** The most files a version may list (a bundle has about ten). */
    private static final int MAX_FILES = 1000;

    private final Optional<MlflowClient> client;
    private final Path root;
    private final ModelStore aliases;

    /**
     * A resolver.
     *
     * @param client the registry, or empty: then the cache is the registry
     * @param cacheDir the cache, e.g. {@code QUIVER_HOME/models} (shared with model versions: a
     *     registered name is either a model or a strategy)
     */
    public StrategyResolver(Optional<MlflowClient> client, Path cacheDir) {
        this.client = client;
        this.root = cacheDir.toAbsolutePath().normalize();
        this.aliases = new ModelStore(root);
    }

    /**
     * Whether a reference names a registered version rather than a folder.
     *
     * @param reference a command-line value
     * @return true if it starts with {@code models:}
     */
    public static boolean isRegistryUri(String reference) {
        return reference.startsWith("models:");
    }

    /**
     * Resolves a reference to a verified local bundle.
     *
     * @param reference {@code models:/NAME@ALIAS}, {@code models:/NAME/VERSION} or a bundle folder
     * @return the bundle and where it came from
     * @throws StrategyRefusedException if the version fails a check, is not a strategy bundle, or
     *     the name, alias or version does not exist
     * @throws QuiverInputException {@code BAD_BUNDLE} if a folder fails verification
     * @throws IllegalArgumentException {@code BAD_MODEL_URI} for a malformed URI
     * @throws MlflowException if the registry is unreachable and nothing usable is cached
     */
    public ResolvedStrategy resolve(String reference) {
        if (!isRegistryUri(reference)) {
            StrategyBundle b = StrategyBundle.open(Path.of(reference));
            var r = b.registration();
            return new ResolvedStrategy(
                    reference,
                    b,
                    r.map(StrategyBundle.Registration::name).orElse(""),
                    r.map(StrategyBundle.Registration::version).orElse(""),
                    r.map(StrategyBundle.Registration::runId).orElse(""),
                    Map.of(),
                    Optional.empty(),
                    "folder",
                    "");
        }
        ModelUri ref = ModelUri.parse(reference);
        if (client.isEmpty()) {
            return fromCache(
                            ref, "local", "no tracking URI: the cache " + root + " is the registry")
                    .orElseThrow(
                            () ->
                                    new StrategyRefusedException(
                                            reference,
                                            "no tracking URI, and the cache "
                                                    + root
                                                    + " holds no verified version for it"));
        }
        JsonNode version;
        try {
            version =
                    ref.alias().isPresent()
                            ? client.get().versionByAlias(ref.name(), ref.alias().get())
                            : client.get().modelVersion(ref.name(), ref.version().get());
        } catch (MlflowException e) {
            if (!e.unavailable() && !e.authFailed()) {
                throw new StrategyRefusedException(
                        reference, "the registry answered: " + e.getMessage(), e);
            }
            return cacheInstead(
                    ref,
                    (e.authFailed()
                                    ? "the registry refused the credentials ("
                                    : "registry unreachable (")
                            + e.getMessage()
                            + ")",
                    e);
        }
        String v = version.path("version").asText();
        ResolvedStrategy resolved;
        try {
            resolved = fetch(reference, ref.name(), version);
        } catch (MlflowException e) {
            if (!e.unavailable()) {
                throw new StrategyRefusedException(
                        "models:/" + ref.name() + "/" + v,
                        "the registry answered: " + e.getMessage(),
                        e);
            }
            ModelUri pinned = new ModelUri(ref.name(), Optional.empty(), Optional.of(v));
            return cacheInstead(
                    pinned, "download of version " + v + " failed (" + e.getMessage() + ")", e);
        }
        if (ref.alias().isPresent()) {
            try {
                aliases.recordAlias(ref.name(), ref.alias().get(), v);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the cache " + root, e);
            }
        }
        return resolved;
    }

    /**
     * Records that {@code version} now serves an alias, so that a start with the registry down
     * serves it from the cache: for an alias follower that resolved the pinned version and served
     * it ({@link #resolve} records the alias only when it is given the alias).
     *
     * @param uri {@code models:/NAME@ALIAS}
     * @param version the version that serves it, verified in the cache
     * @throws IllegalArgumentException if {@code uri} names no alias
     * @throws UncheckedIOException if the cache cannot be written
     */
    public void recordAlias(String uri, String version) {
        ModelUri ref = ModelUri.parse(uri);
        String alias =
                ref.alias()
                        .orElseThrow(() -> new IllegalArgumentException(uri + " names no alias"));
        try {
            aliases.recordAlias(ref.name(), alias, version);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the cache " + root, e);
        }
    }

    /**
     * Where a reference points in the registry now, without downloading anything: the hook for an
     * alias poller (resolve {@code models:/NAME/VERSION} when the answer changes).
     *
     * @param uri {@code models:/NAME@ALIAS} or {@code models:/NAME/VERSION}
     * @return the version number
     * @throws StrategyRefusedException if the alias or version does not exist, or the version is
     *     not a strategy bundle
     * @throws MlflowException if the registry is unreachable or refuses the credentials ({@code
     *     AUTH_FAILED})
     * @throws IllegalStateException without a tracking server
     */
    public String currentVersion(String uri) {
        ModelUri ref = ModelUri.parse(uri);
        MlflowClient c =
                client.orElseThrow(
                        () -> new IllegalStateException("no tracking server to ask for " + uri));
        JsonNode version;
        try {
            version =
                    ref.alias().isPresent()
                            ? c.versionByAlias(ref.name(), ref.alias().get())
                            : c.modelVersion(ref.name(), ref.version().get());
        } catch (MlflowException e) {
            if (e.unavailable() || e.authFailed()) {
                throw e;
            }
            throw new StrategyRefusedException(uri, "the registry answered: " + e.getMessage(), e);
        }
        String v = version.path("version").asText();
        checkKind("models:/" + ref.name() + "/" + v, tagsOf(version));
        return v;
    }

    /**
     * The version the cache holds for a reference, without asking the registry: for an alias, the
     * last version verified for it.
     *
     * @param uri {@code models:/NAME@ALIAS} or {@code models:/NAME/VERSION}
     * @param note why the cache is used, for the result
     * @return the verified cached version ({@code origin = cache}), or empty if none is cached
     * @throws StrategyRefusedException if the cached copy fails verification
     */
    public Optional<ResolvedStrategy> cached(String uri, String note) {
        return fromCache(ModelUri.parse(uri), "cache", note);
    }

    private ResolvedStrategy cacheInstead(ModelUri ref, String why, MlflowException e) {
        String version = versionInCache(ref).orElse(null);
        if (version == null) {
            LOG.warn("{}: {}; nothing verified in the cache {}", ref, why, root);
            throw e;
        }
        String note =
                why
                        + "; serving version "
                        + version
                        + ", the last verified "
                        + (ref.alias().isPresent()
                                ? "version of @" + ref.alias().get()
                                : "copy of that version")
                        + " in the cache "
                        + root;
        LOG.warn("{}: {}", ref, note);
        return read(ref.toString(), ref.name(), version, "cache", note).orElseThrow(() -> e);
    }

    private Optional<String> versionInCache(ModelUri ref) {
        return ref.version()
                .or(
                        () ->
                                Optional.ofNullable(
                                        aliases.aliases(ref.name())
                                                .get(ref.alias().orElseThrow())));
    }

    private Optional<ResolvedStrategy> fromCache(ModelUri ref, String origin, String note) {
        Optional<String> version = versionInCache(ref);
        if (version.isEmpty()) {
            return Optional.empty();
        }
        return read(ref.toString(), ref.name(), version.get(), origin, note);
    }

    private Path versionDir(String name, String version) {
        Path dir = root.resolve(name).resolve(version).normalize();
        if (!dir.startsWith(root) || !version.matches("[0-9]+")) {
            throw new StrategyRefusedException(
                    "models:/" + name + "/" + version, "the version's folder would escape " + root);
        }
        return dir;
    }

    /** Reads and verifies a cached version; empty if it is not cached. */
    private Optional<ResolvedStrategy> read(
            String requested, String name, String version, String origin, String note) {
        Path dir = versionDir(name, version);
        Path meta = dir.resolve(VERSION_FILE);
        if (!Files.isRegularFile(meta, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        String model = "models:/" + name + "/" + version;
        JsonNode m;
        try {
            m = StrategyBundle.json().readTree(meta.toFile());
        } catch (IOException e) {
            throw new StrategyRefusedException(
                    model, "the cache's " + meta + " cannot be read: " + e, e);
        }
        Map<String, String> tags = new TreeMap<>();
        m.path("tags").properties().forEach(e -> tags.put(e.getKey(), e.getValue().asText()));
        Verified v = verify(model, dir, tags, true);
        StrategyBundle.Registration r =
                v.bundle()
                        .registration()
                        .orElseThrow(
                                () ->
                                        new StrategyRefusedException(
                                                model,
                                                "the cached bundle has no "
                                                        + StrategyBundle.REGISTRY_FILE));
        if (!r.name().equals(name) || !r.version().equals(version)) {
            throw new StrategyRefusedException(
                    model,
                    StrategyBundle.REGISTRY_FILE
                            + " names models:/"
                            + r.name()
                            + "/"
                            + r.version()
                            + ", not the cache folder's version");
        }
        return Optional.of(
                new ResolvedStrategy(
                        requested,
                        v.bundle(),
                        name,
                        version,
                        m.path("run_id").asText(""),
                        tags,
                        v.smoke(),
                        origin,
                        note));
    }

    private record Verified(StrategyBundle bundle, Optional<Path> smoke) {}

    /**
     * Verifies a version folder against its tags: kind, only {@code bundle/}, {@code smoke.json}
     * (and the version file when cached), the bundle, the manifest's and the smoke file's sha256.
     */
    private static Verified verify(
            String model, Path dir, Map<String, String> tags, boolean cached) {
        checkKind(model, tags);
        String wantManifest = tags.get(BundleRegistrar.TAG_MANIFEST_SHA256);
        String smokeName = tags.get(ModelStore.TAG_SMOKE);
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : entries.toList()) {
                String n = p.getFileName().toString();
                boolean ok =
                        (n.equals(BundleRegistrar.BUNDLE_DIR)
                                        && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                                || (n.equals(StrategySmoke.FILE_NAME)
                                        && n.equals(smokeName)
                                        && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                                || (cached
                                        && n.equals(VERSION_FILE)
                                        && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS));
                if (!ok) {
                    throw new StrategyRefusedException(
                            model,
                            "'"
                                    + n
                                    + "' is not part of a registered strategy (only "
                                    + BundleRegistrar.BUNDLE_DIR
                                    + "/ and the smoke file named by its tag)");
                }
            }
        } catch (IOException e) {
            throw new StrategyRefusedException(model, "cannot list " + dir + ": " + e, e);
        }
        Path bundleDir = dir.resolve(BundleRegistrar.BUNDLE_DIR);
        if (!Files.isDirectory(bundleDir, LinkOption.NOFOLLOW_LINKS)) {
            throw new StrategyRefusedException(
                    model, "has no " + BundleRegistrar.BUNDLE_DIR + "/ folder");
        }
        StrategyBundle bundle;
        try {
            bundle = StrategyBundle.open(bundleDir);
        } catch (QuiverInputException e) {
            throw new StrategyRefusedException(model, e.getMessage(), e);
        }
        String sha = sha256(bundleDir.resolve(StrategyBundle.MANIFEST));
        if (!sha.equals(wantManifest)) {
            throw new StrategyRefusedException(
                    model,
                    "sha256 of "
                            + BundleRegistrar.BUNDLE_DIR
                            + "/"
                            + StrategyBundle.MANIFEST
                            + " is "
                            + sha
                            + ", the version's tag "
                            + BundleRegistrar.TAG_MANIFEST_SHA256
                            + " says "
                            + wantManifest
                            + " (a replaced or damaged manifest)");
        }
        Optional<Path> smoke = Optional.empty();
        if (smokeName != null && !smokeName.isEmpty()) {
            Path f = dir.resolve(StrategySmoke.FILE_NAME);
            if (!smokeName.equals(StrategySmoke.FILE_NAME) || !Files.isRegularFile(f)) {
                throw new StrategyRefusedException(
                        model,
                        "tag "
                                + ModelStore.TAG_SMOKE
                                + " names '"
                                + smokeName
                                + "', but the version has no "
                                + StrategySmoke.FILE_NAME);
            }
            String want = tags.get(ModelStore.TAG_SMOKE_SHA256);
            String got = sha256(f);
            if (!got.equals(want)) {
                throw new StrategyRefusedException(
                        model,
                        "sha256 of "
                                + StrategySmoke.FILE_NAME
                                + " is "
                                + got
                                + ", the version's tag "
                                + ModelStore.TAG_SMOKE_SHA256
                                + " says "
                                + want
                                + " (checksum mismatch)");
            }
            StrategySmoke s;
            try {
                s = StrategySmoke.read(f);
            } catch (IllegalArgumentException e) {
                throw new StrategyRefusedException(model, e.getMessage(), e);
            } catch (IOException e) {
                throw new StrategyRefusedException(model, "cannot read " + f + ": " + e, e);
            }
            if (!s.manifestSha256().equals(sha)) {
                throw new StrategyRefusedException(
                        model,
                        StrategySmoke.FILE_NAME
                                + " was recorded with manifest sha256 "
                                + s.manifestSha256()
                                + ", not this bundle's "
                                + sha);
            }
            smoke = Optional.of(f);
        }
        return new Verified(bundle, smoke);
    }

    /** Refuses a version whose kind tag is not a strategy bundle's, naming the kind. */
    static void checkKind(String model, Map<String, String> tags) {
        String kind = tags.get(BundleRegistrar.TAG_KIND);
        if (BundleRegistrar.KIND.equals(kind)) {
            return;
        }
        String what;
        if (kind != null) {
            what = "its kind is '" + kind + "' (tag " + BundleRegistrar.TAG_KIND + ")";
        } else if (tags.containsKey(ModelStore.TAG_MODEL_FILE)) {
            what =
                    "it is a model version (tag "
                            + ModelStore.TAG_MODEL_FILE
                            + " = "
                            + tags.get(ModelStore.TAG_MODEL_FILE)
                            + ", "
                            + ModelStore.TAG_FORMAT
                            + " = "
                            + tags.getOrDefault(ModelStore.TAG_FORMAT, "?")
                            + ") with no "
                            + BundleRegistrar.TAG_KIND
                            + " tag; resolve it with `quiver models resolve`";
        } else {
            what = "it has no " + BundleRegistrar.TAG_KIND + " tag (kind unknown)";
        }
        throw new StrategyRefusedException(
                model,
                "is not a strategy bundle: "
                        + what
                        + "; a strategy version has "
                        + BundleRegistrar.TAG_KIND
                        + " = "
                        + BundleRegistrar.KIND);
    }

    private static Map<String, String> tagsOf(JsonNode version) {
        Map<String, String> tags = new TreeMap<>();
        MlflowClient.byKey(version.path("tags")).forEach((k, n) -> tags.put(k, n.asText()));
        return tags;
    }

    /** Downloads, verifies and installs a version, or serves the verified cached copy. */
    private ResolvedStrategy fetch(String requested, String name, JsonNode version) {
        String v = version.path("version").asText();
        String model = "models:/" + name + "/" + v;
        Map<String, String> tags = tagsOf(version);
        checkKind(model, tags);
        String want = tags.get(BundleRegistrar.TAG_MANIFEST_SHA256);
        if (want == null || !want.matches("[0-9a-f]{64}")) {
            throw new StrategyRefusedException(
                    model,
                    "tag "
                            + BundleRegistrar.TAG_MANIFEST_SHA256
                            + " is missing or not a lower-case sha256 ("
                            + want
                            + ")");
        }
        Optional<ResolvedStrategy> cached;
        try {
            cached = read(requested, name, v, "registry", "");
        } catch (StrategyRefusedException e) {
            LOG.warn("{}: cached copy refused ({}); downloading again", model, e.reason());
            cached = Optional.empty();
        }
        if (cached.isPresent() && cached.get().tags().equals(tags)) {
            return cached.get();
        }
        MlflowClient c = client.orElseThrow();
        String location = c.downloadUri(name, v);
        List<String> files = new ArrayList<>();
        listInto(c, model, location, "", files, 0);
        Path staging;
        try {
            Path parent = root.resolve(name);
            Files.createDirectories(parent);
            staging = Files.createTempDirectory(parent, ".staging-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the cache " + root, e);
        }
        try {
            for (String f : files) {
                Path target = staging.resolve(f);
                Files.createDirectories(target.getParent());
                c.http().download(location, f, target);
            }
            verify(model, staging, tags, false);
            String runId = version.path("run_id").asText("");
            ObjectNode reg = StrategyBundle.newObject();
            reg.put("name", name)
                    .put("version", v)
                    .put("run_id", runId)
                    .put("manifest_sha256", want);
            Path bundleDir = staging.resolve(BundleRegistrar.BUNDLE_DIR);
            StrategyBundle.json()
                    .writerWithDefaultPrettyPrinter()
                    .writeValue(bundleDir.resolve(StrategyBundle.REGISTRY_FILE).toFile(), reg);
            ObjectNode meta = StrategyBundle.newObject();
            meta.put("name", name)
                    .put("version", v)
                    .put("run_id", runId)
                    .put("source", version.path("source").asText(""));
            ObjectNode t = meta.putObject("tags");
            tags.forEach(t::put);
            StrategyBundle.json()
                    .writerWithDefaultPrettyPrinter()
                    .writeValue(staging.resolve(VERSION_FILE).toFile(), meta);
            Path dir = versionDir(name, v);
            if (Files.exists(dir)) {
                Path old = dir.resolveSibling("." + v + ".old-" + System.nanoTime());
                Files.move(dir, old);
                ModelStore.deleteTree(old);
            }
            try {
                Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(staging, dir);
            }
            LOG.info("{}: verified (manifest sha256 {}) and cached in {}", model, want, dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the cache " + root, e);
        } finally {
            try {
                ModelStore.deleteTree(staging);
            } catch (IOException e) {
                LOG.warn("cannot delete the staging folder {}: {}", staging, e.toString());
            }
        }
        return read(requested, name, v, "registry", "")
                .orElseThrow(() -> new IllegalStateException(model + " vanished from the cache"));
    }

    /** Lists a version's files recursively, checking every name before anything is downloaded. */
    private static void listInto(
            MlflowClient c,
            String model,
            String location,
            String prefix,
            List<String> out,
            int depth) {
        if (depth > 8) {
            throw new StrategyRefusedException(model, "'" + prefix + "' is nested too deeply");
        }
        String folder = prefix.isEmpty() ? location : location + "/" + prefix;
        for (JsonNode f : c.http().list(folder)) {
            String name = f.path("path").asText();
            // The proxy answers a path relative to the folder listed; accept the full form too.
            if (!prefix.isEmpty() && name.startsWith(prefix + "/")) {
                name = name.substring(prefix.length() + 1);
            }
            if (!SEGMENT.matcher(name).matches() || name.contains("..")) {
                throw new StrategyRefusedException(
                        model,
                        "artifact '"
                                + prefix
                                + (prefix.isEmpty() ? "" : "/")
                                + name
                                + "' is not a plain name inside the version's folder (path escape"
                                + " or hidden file)");
            }
            String rel = prefix.isEmpty() ? name : prefix + "/" + name;
            boolean dir = f.path("is_dir").asBoolean(false);
            if (prefix.isEmpty()) {
                boolean allowed =
                        (dir && name.equals(BundleRegistrar.BUNDLE_DIR))
                                || (!dir && name.equals(StrategySmoke.FILE_NAME));
                if (!allowed) {
                    throw new StrategyRefusedException(
                            model,
                            "artifact '"
                                    + rel
                                    + "' is not part of a registered strategy (only "
                                    + BundleRegistrar.BUNDLE_DIR
                                    + "/... and "
                                    + StrategySmoke.FILE_NAME
                                    + ")");
                }
            }
            if (rel.equals(BundleRegistrar.BUNDLE_DIR + "/" + StrategyBundle.REGISTRY_FILE)) {
                throw new StrategyRefusedException(
                        model,
                        "artifact '"
                                + rel
                                + "' is written by the resolver from the registry's answer, never"
                                + " downloaded");
            }
            if (dir) {
                listInto(c, model, location, rel, out, depth + 1);
            } else {
                out.add(rel);
                if (out.size() > MAX_FILES) {
                    throw new StrategyRefusedException(
                            model, "lists more than " + MAX_FILES + " files");
                }
            }
        }
    }

    private static String sha256(Path file) {
        try {
            return ModelStore.sha256(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /**
     * The cache folder.
     *
     * @return absolute path
     */
    public Path cacheDir() {
        return root;
    }
}

package dev.quiver.host.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves {@code models:/NAME@ALIAS} and {@code models:/NAME/VERSION} to a verified local folder.
 *
 * <p>With a tracking server: asks the registry which version (alias endpoint or version get),
 * follows the version's download URI (MLflow 3 keeps a registered version's files with its logged
 * model), checks every listed name (plain, contained, allow-listed format) before downloading
 * anything, downloads over HTTP through the server's artifact proxy into a staging folder of the
 * cache, verifies size, sha256 and content against the version's tags, and only then installs it as
 * {@code CACHE/NAME/VERSION}. A version already cached with the same checksum is not downloaded
 * again.
 *
 * <p>If the registry is unavailable (connection refused, timeouts, 5xx after the retries), the last
 * version the alias was seen at, or the requested version, is served from the cache and the result
 * says so ({@code origin = cache}). A definite answer (404 unknown alias, 4xx) is never papered
 * over with the cache.
 *
 * <p>Without a tracking server, the cache folder is the registry: same layout, same checks.
 */
public final class ModelResolver {

    private static final Logger LOG = LoggerFactory.getLogger(ModelResolver.class);

    private final Optional<MlflowClient> client;
    private final ModelStore store;

    /**
     * A resolver.
     *
     * @param client the registry, or empty for the embedded local model directory
     * @param cacheDir the cache (with a registry) or the local model directory (without)
     */
    public ModelResolver(Optional<MlflowClient> client, Path cacheDir) {
        this(client, new ModelStore(cacheDir));
    }

    /**
     * A resolver over a store with its own signature trust.
     *
     * @param client the registry, or empty for the embedded local model directory
     * @param store the cache (with a registry) or the local model directory (without)
     */
    public ModelResolver(Optional<MlflowClient> client, ModelStore store) {
        this.client = client;
        this.store = store;
    }

    /**
     * The local store.
     *
     * @return the store
     */
    public ModelStore store() {
        return store;
    }

    /**
     * Resolves a reference to a verified local version.
     *
     * @param uri {@code models:/NAME@ALIAS} or {@code models:/NAME/VERSION}
     * @return the version
     * @throws ModelRefusedException if the version fails a check, or the name/alias/version does
     *     not exist
     * @throws MlflowException if the registry is unavailable and nothing usable is cached
     */
    public ResolvedModel resolve(String uri) {
        ModelUri ref = ModelUri.parse(uri);
        if (client.isEmpty()) {
            return fromStore(ref, "local", "")
                    .orElseThrow(
                            () ->
                                    new ModelRefusedException(
                                            uri,
                                            "not in the local model directory " + store.root()));
        }
        JsonNode version;
        try {
            version =
                    ref.alias().isPresent()
                            ? client.get().versionByAlias(ref.name(), ref.alias().get())
                            : client.get().modelVersion(ref.name(), ref.version().get());
        } catch (MlflowException e) {
            if (!e.unavailable()) {
                throw new ModelRefusedException(uri, "the registry answered: " + e.getMessage(), e);
            }
            LOG.warn("{}: registry unavailable ({}); trying the cache", uri, e.getMessage());
            return fromStore(ref, "cache", "registry unavailable: " + e.getMessage())
                    .orElseThrow(() -> e);
        }
        String v = version.path("version").asText();
        try {
            ResolvedModel resolved = fetch(uri, ref.name(), version);
            if (ref.alias().isPresent()) {
                store.recordAlias(ref.name(), ref.alias().get(), v);
            }
            return resolved;
        } catch (MlflowException e) {
            if (!e.unavailable()) {
                throw new ModelRefusedException(uri, "the registry answered: " + e.getMessage(), e);
            }
            LOG.warn(
                    "{}: download of version {} failed ({}); trying the cache",
                    uri,
                    v,
                    e.getMessage());
            return store.read(uri, ref.name(), v, "cache", "download failed: " + e.getMessage())
                    .or(() -> fromStore(ref, "cache", "download failed: " + e.getMessage()))
                    .orElseThrow(() -> e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the model cache " + store.root(), e);
        }
    }

    /**
     * The version the cache holds for a reference, without asking the registry: for an alias, the
     * version last {@link #remember remembered} for it.
     *
     * @param uri {@code models:/NAME@ALIAS} or {@code models:/NAME/VERSION}
     * @param note why the cache is used, for the result
     * @return the verified cached version ({@code origin = cache}), or empty if none is cached
     * @throws ModelRefusedException if a cached copy fails verification
     */
    public Optional<ResolvedModel> cached(String uri, String note) {
        return fromStore(ModelUri.parse(uri), "cache", note);
    }

    /**
     * Records the version an alias points at in the cache, so that {@link #cached} (and {@link
     * #resolve} with the registry unreachable, also after a restart) serves it.
     *
     * @param name registered model name
     * @param alias alias
     * @param version version number
     * @throws UncheckedIOException if the cache cannot be written
     */
    public void remember(String name, String alias, String version) {
        try {
            store.recordAlias(name, alias, version);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the model cache " + store.root(), e);
        }
    }

    private Optional<ResolvedModel> fromStore(ModelUri ref, String origin, String note) {
        String version =
                ref.version()
                        .orElseGet(() -> store.aliases(ref.name()).get(ref.alias().orElseThrow()));
        if (version == null) {
            return Optional.empty();
        }
        return store.read(ref.toString(), ref.name(), version, origin, note);
    }

    private ResolvedModel fetch(String uri, String name, JsonNode version) throws IOException {
        String v = version.path("version").asText();
        String model = "models:/" + name + "/" + v;
        Map<String, String> tags = new LinkedHashMap<>();
        MlflowClient.byKey(version.path("tags")).forEach((k, n) -> tags.put(k, n.asText()));
        // Names come from the registry: check them before anything touches the disk.
        String modelFile =
                ModelStore.containedName(
                        model,
                        "tag " + ModelStore.TAG_MODEL_FILE,
                        tags.get(ModelStore.TAG_MODEL_FILE));
        ModelStore.allowedFile(model, modelFile);
        String want = tags.get(ModelStore.TAG_SHA256);
        Optional<ResolvedModel> cached;
        try {
            cached = store.read(uri, name, v, "registry", "");
        } catch (ModelRefusedException e) {
            LOG.warn("{}: cached copy refused ({}); downloading again", model, e.reason());
            cached = Optional.empty();
        }
        if (cached.isPresent()
                && cached.get().sha256().equals(want)
                && cached.get().tags().equals(tags)) {
            return cached.get();
        }
        MlflowClient c = client.orElseThrow();
        String location = c.downloadUri(name, v);
        JsonNode files = c.http().list(location);
        for (JsonNode f : files) {
            String path = f.path("path").asText();
            if (f.path("is_dir").asBoolean(false)) {
                throw new ModelRefusedException(
                        model, "'" + path + "' is a folder; the model folder is flat");
            }
            ModelStore.containedName(model, "artifact", path);
            ModelStore.allowedFile(model, path);
        }
        Path staging = store.staging(name);
        try {
            for (JsonNode f : files) {
                String path = f.path("path").asText();
                c.http().download(location, path, staging.resolve(path));
            }
            ModelStore.Verified checked = ModelStore.verify(model, staging, tags, store.trust());
            Path dir =
                    store.install(
                            staging,
                            name,
                            v,
                            version.path("run_id").asText(""),
                            version.path("source").asText(""),
                            tags);
            LOG.info(
                    "{}: version {} verified (sha256 {}) and cached in {}",
                    uri,
                    v,
                    checked.sha256(),
                    dir);
            return store.read(uri, name, v, "registry", "").orElseThrow();
        } finally {
            ModelStore.deleteTree(staging);
        }
    }
}

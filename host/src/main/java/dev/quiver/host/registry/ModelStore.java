package dev.quiver.host.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A local model directory: the download cache of a registry, and the embedded registry when there
 * is no tracking server. Same layout either way:
 *
 * <pre>
 * ROOT/NAME/aliases.json            {"champion": "2", ...}  (last alias targets seen)
 * ROOT/NAME/VERSION/quiver-version.json   name, version, run_id, source, tags
 * ROOT/NAME/VERSION/lstm.onnx       the model file (tag quiver.model_file)
 * ROOT/NAME/VERSION/lstm.json       its sidecar (tag quiver.sidecar), optional
 * ROOT/NAME/VERSION/smoke.json      recorded inputs + expected outputs (tag quiver.smoke), optional
 * </pre>
 *
 * <p>The alias history (every alias move observed) is in the state store ({@link AliasHistory}); an
 * {@code alias-history.jsonl} an earlier Quiver left in ROOT is imported from there once.
 *
 * <p>Every read re-verifies the folder ({@link #verify}): the cache is a file system anyone may
 * have touched.
 */
public final class ModelStore {

    static final ObjectMapper JSON = new ObjectMapper();

    /** Version metadata file written beside the model. */
    public static final String VERSION_FILE = "quiver-version.json";

    /** Tag: the model file's name inside the version folder. */
    public static final String TAG_MODEL_FILE = "quiver.model_file";

    /** Tag: lower-case hex sha256 of the model file. */
    public static final String TAG_SHA256 = "quiver.sha256";

    /** Tag: the model file's size in bytes. */
    public static final String TAG_SIZE = "quiver.size_bytes";

    /** Tag: {@link ModelFormat#tag()}. */
    public static final String TAG_FORMAT = "quiver.format";

    /** Tag: the sidecar JSON's name, if any. */
    public static final String TAG_SIDECAR = "quiver.sidecar";

    /** Tag: feature schema hash the model was trained on. */
    public static final String TAG_SCHEMA_HASH = "quiver.feature_schema_hash";

    /** Tag: training span, {@code FIRST..LAST} bar times. */
    public static final String TAG_TRAINING_SPAN = "quiver.training_span";

    /** Tag: the data set trained on. */
    public static final String TAG_DATASET = "quiver.dataset";

    /** Tag: the smoke file's name ({@link SmokeSet}: recorded inputs and expected outputs). */
    public static final String TAG_SMOKE = "quiver.smoke";

    /** Tag: lower-case hex sha256 of the smoke file. */
    public static final String TAG_SMOKE_SHA256 = "quiver.smoke_sha256";

    /**
     * Tag: the learning task the version is registered as; Quiver serves only {@value
     * ModelFormat#TASK_CLASSIFIER} (a version without the tag is checked by its file alone).
     */
    public static final String TAG_TASK = "quiver.task";

    /** Tag: the plugin that serves the model (and recorded the smoke outputs). */
    public static final String TAG_PLUGIN = "quiver.plugin";

    /** A file name we accept inside a version folder: flat, no separators, no leading dot. */
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,200}");

    /** Non-model files a version folder may carry. */
    private static final List<String> OTHER_ALLOWED = List.of(".json", ".csv", ".md");

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ModelStore.class);

    /** Versions already warned about as unsigned (model sha256), so a poll does not repeat it. */
    private static final java.util.Set<String> WARNED_UNSIGNED =
            java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final Path root;
    private final ModelTrust trust;

    /**
     * A store rooted at a folder (created when first written), checking signatures as the host is
     * configured ({@link ModelTrust#configured()}).
     *
     * @param root the folder
     * @throws IllegalArgumentException if the model trust configuration is invalid
     */
    public ModelStore(Path root) {
        this(root, ModelTrust.configured());
    }

    /**
     * A store rooted at a folder (created when first written).
     *
     * @param root the folder
     * @param trust the signatures it accepts
     */
    public ModelStore(Path root, ModelTrust trust) {
        this.root = root.toAbsolutePath().normalize();
        this.trust = trust;
    }

    /**
     * The signatures this store accepts.
     *
     * @return the trust
     */
    public ModelTrust trust() {
        return trust;
    }

    /**
     * The root folder.
     *
     * @return absolute path
     */
    public Path root() {
        return root;
    }

    /**
     * Checks a file name from a tag or a listing: a single, plain path segment inside the folder.
     *
     * @param model for messages
     * @param what for messages, e.g. {@code tag quiver.model_file}
     * @param name the name
     * @return the name
     * @throws ModelRefusedException if it could escape the folder or is not a plain name
     */
    static String containedName(String model, String what, String name) {
        if (name == null
                || !SAFE_NAME.matcher(name).matches()
                || name.contains("..")
                || name.equals(VERSION_FILE)) {
            throw new ModelRefusedException(
                    model,
                    what
                            + " '"
                            + name
                            + "' is not a plain file name inside the model folder (path escape"
                            + " or nested path)");
        }
        return name;
    }

    /**
     * Checks that a file may sit in a version folder: an allow-listed model format, or a
     * JSON/CSV/Markdown side file; never pickle, joblib, Python code or an MLflow pyfunc {@code
     * MLmodel}.
     *
     * @param model for messages
     * @param name file name, already {@link #containedName contained}
     * @throws ModelRefusedException if it is not accepted
     */
    static void allowedFile(String model, String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (ModelFormat.byFileName(lower).isPresent()
                || OTHER_ALLOWED.stream().anyMatch(lower::endsWith)) {
            return;
        }
        throw new ModelRefusedException(
                model,
                "file '"
                        + name
                        + "' is not an accepted format (accepted: .onnx, XGBoost .json/.ubj,"
                        + " LightGBM .txt, CatBoost .cbm, and .json/.csv/.md side files; pickle,"
                        + " joblib and MLmodel python_function loaders run code and are never"
                        + " loaded)");
    }

    /**
     * The folder of one version (it may not exist).
     *
     * @param name registered model name
     * @param version version number
     * @return {@code ROOT/NAME/VERSION}
     */
    Path versionDir(String name, String version) {
        Path dir = root.resolve(name).resolve(version).normalize();
        if (!dir.startsWith(root)) {
            throw new ModelRefusedException(
                    "models:/" + name + "/" + version, "path escapes " + root);
        }
        return dir;
    }

    /**
     * Verifies a version folder against its tags: model file named by {@code quiver.model_file},
     * format allow-listed and matching the tag and the file's first bytes, size and sha256 equal to
     * the tags, sidecar (if any) naming the same file and checksum, no other file outside the
     * allow-list.
     *
     * @param model for messages, e.g. {@code models:/quiver-lstm/2}
     * @param dir the folder
     * @param tags the version's tags
     * @return the model file, sidecar, sha256 and format
     * @throws ModelRefusedException with the first problem found
     */
    static Verified verify(String model, Path dir, Map<String, String> tags) {
        return verify(model, dir, tags, ModelTrust.NONE);
    }

    /**
     * Verifies a version folder as {@link #verify(String, Path, Map)} and, right after the model
     * file's size and sha256 and before any parser reads it, its signature ({@link ModelTrust}).
     *
     * @param model for messages, e.g. {@code models:/quiver-lstm/2}
     * @param dir the folder
     * @param tags the version's tags
     * @param trust the signatures accepted
     * @return the model file, sidecar, sha256 and format
     * @throws ModelRefusedException with the first problem found
     */
    static Verified verify(String model, Path dir, Map<String, String> tags, ModelTrust trust) {
        String file = containedName(model, "tag " + TAG_MODEL_FILE, tags.get(TAG_MODEL_FILE));
        ModelFormat format =
                ModelFormat.byFileName(file)
                        .orElseThrow(
                                () ->
                                        new ModelRefusedException(
                                                model,
                                                "model file '"
                                                        + file
                                                        + "' is not an accepted format (.onnx, .json,"
                                                        + " .ubj, .txt, .cbm)"));
        String formatTag = tags.get(TAG_FORMAT);
        if (formatTag != null && ModelFormat.byTag(formatTag).orElse(null) != format) {
            throw new ModelRefusedException(
                    model,
                    "tag " + TAG_FORMAT + " '" + formatTag + "' does not match the file " + file);
        }
        String want = tags.get(TAG_SHA256);
        if (want == null || !want.matches("[0-9a-f]{64}")) {
            throw new ModelRefusedException(
                    model,
                    "tag " + TAG_SHA256 + " is missing or not a lower-case sha256 (" + want + ")");
        }
        try {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    String n = p.getFileName().toString();
                    if (n.equals(VERSION_FILE)) {
                        continue;
                    }
                    if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                            || Files.isSymbolicLink(p)) {
                        throw new ModelRefusedException(
                                model, "'" + n + "' is a folder or link; the model folder is flat");
                    }
                    allowedFile(model, containedName(model, "file", n));
                }
            }
            Path modelFile = dir.resolve(file);
            if (!Files.isRegularFile(modelFile)) {
                throw new ModelRefusedException(model, "model file " + file + " is missing");
            }
            long size = Files.size(modelFile);
            String sizeTag = tags.get(TAG_SIZE);
            if (sizeTag != null && Long.parseLong(sizeTag) != size) {
                throw new ModelRefusedException(
                        model,
                        String.format(
                                Locale.ROOT,
                                "%s is %,d bytes, the version's tag %s says %,d%s",
                                file,
                                size,
                                TAG_SIZE,
                                Long.parseLong(sizeTag),
                                size < Long.parseLong(sizeTag) ? " (truncated)" : ""));
            }
            String sha = sha256(modelFile);
            if (!sha.equals(want)) {
                throw new ModelRefusedException(
                        model,
                        "sha256 of "
                                + file
                                + " is "
                                + sha
                                + ", the version's tag "
                                + TAG_SHA256
                                + " says "
                                + want
                                + " (checksum mismatch)");
            }
            checkSignature(model, dir, tags, trust, sha);
            Optional<String> problem = format.contentProblem(modelFile);
            if (problem.isEmpty()) {
                problem = format.structureProblem(modelFile, tags.get(TAG_TASK));
            }
            if (problem.isPresent()) {
                throw new ModelRefusedException(model, problem.get());
            }
            Optional<Path> sidecar = Optional.empty();
            String sidecarName = tags.get(TAG_SIDECAR);
            if (sidecarName != null && !sidecarName.isEmpty()) {
                containedName(model, "tag " + TAG_SIDECAR, sidecarName);
                Path s = dir.resolve(sidecarName);
                if (!Files.isRegularFile(s) || !sidecarName.endsWith(".json")) {
                    throw new ModelRefusedException(
                            model, "sidecar " + sidecarName + " is missing or not .json");
                }
                JsonNode node = JSON.readTree(s.toFile());
                String named = node.path("model_file").asText(file);
                String namedSha = node.path("model_sha256").asText(sha);
                if (!named.equals(file) || !namedSha.equals(sha)) {
                    throw new ModelRefusedException(
                            model,
                            "sidecar "
                                    + sidecarName
                                    + " names "
                                    + named
                                    + " sha256 "
                                    + namedSha
                                    + ", not the version's "
                                    + file
                                    + " "
                                    + sha);
                }
                sidecar = Optional.of(s);
            }
            String smokeName = tags.get(TAG_SMOKE);
            if (smokeName != null && !smokeName.isEmpty()) {
                verifySmoke(model, dir, smokeName, tags.get(TAG_SMOKE_SHA256));
            }
            return new Verified(modelFile, sidecar, sha, format);
        } catch (IOException e) {
            throw new ModelRefusedException(model, "cannot read " + dir + ": " + e, e);
        } catch (NumberFormatException e) {
            throw new ModelRefusedException(model, "tag " + TAG_SIZE + " is not a number", e);
        }
    }

    /** The signature, from bytes and tags only: no parser has seen the files yet. */
    private static void checkSignature(
            String model, Path dir, Map<String, String> tags, ModelTrust trust, String sha)
            throws IOException {
        String sidecarName = tags.get(TAG_SIDECAR);
        String sidecarSha = "";
        if (sidecarName != null && !sidecarName.isEmpty()) {
            Path s = dir.resolve(containedName(model, "tag " + TAG_SIDECAR, sidecarName));
            if (!Files.isRegularFile(s)) {
                throw new ModelRefusedException(model, "sidecar " + sidecarName + " is missing");
            }
            sidecarSha = sha256(s);
        }
        if (trust.check(model, tags, sidecarSha).isEmpty() && WARNED_UNSIGNED.add(sha)) {
            LOG.warn(
                    "{}: served without a checked signature ({}); see docs/model-signing.md",
                    model,
                    trust.hasKeys()
                            ? ModelTrust.UNSIGNED_KEY + "=allow"
                            : "this host trusts no model key");
        }
    }

    /**
     * The smoke file named by {@code quiver.smoke}: a plain {@code .json} name in the folder, the
     * checksum its tag records, and a valid {@link SmokeSet}.
     */
    private static void verifySmoke(String model, Path dir, String name, String wantSha)
            throws IOException {
        containedName(model, "tag " + TAG_SMOKE, name);
        Path f = dir.resolve(name);
        if (!name.endsWith(".json") || !Files.isRegularFile(f)) {
            throw new ModelRefusedException(
                    model, "smoke file " + name + " is missing or not .json");
        }
        if (wantSha != null) {
            String sha = sha256(f);
            if (!sha.equals(wantSha)) {
                throw new ModelRefusedException(
                        model,
                        "sha256 of "
                                + name
                                + " is "
                                + sha
                                + ", the version's tag "
                                + TAG_SMOKE_SHA256
                                + " says "
                                + wantSha
                                + " (checksum mismatch)");
            }
        }
        try {
            SmokeSet.read(f);
        } catch (IllegalArgumentException e) {
            throw new ModelRefusedException(model, e.getMessage(), e);
        }
    }

    record Verified(Path modelFile, Optional<Path> sidecar, String sha256, ModelFormat format) {}

    /**
     * Lower-case hex sha256 of a file.
     *
     * @param file the file
     * @return 64 hex characters
     * @throws IOException if it cannot be read
     */
    public static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Reads and verifies a stored version.
     *
     * @param requested for the result
     * @param name registered model name
     * @param version version number
     * @param origin {@code cache} or {@code local}
     * @param note why
     * @return the version, or empty if it is not stored
     * @throws ModelRefusedException if it is stored but fails verification
     */
    Optional<ResolvedModel> read(
            String requested, String name, String version, String origin, String note) {
        Path dir = versionDir(name, version);
        Path meta = dir.resolve(VERSION_FILE);
        if (!Files.isRegularFile(meta)) {
            return Optional.empty();
        }
        try {
            JsonNode m = JSON.readTree(meta.toFile());
            Map<String, String> tags = new TreeMap<>();
            m.path("tags").properties().forEach(e -> tags.put(e.getKey(), e.getValue().asText()));
            String model = "models:/" + name + "/" + version;
            Verified v = verify(model, dir, tags, trust);
            return Optional.of(
                    new ResolvedModel(
                            requested,
                            name,
                            version,
                            m.path("run_id").asText(""),
                            dir,
                            v.modelFile(),
                            v.sidecar(),
                            v.sha256(),
                            v.format(),
                            tags,
                            origin,
                            note));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + meta, e);
        }
    }

    /**
     * Installs a verified staging folder as {@code ROOT/NAME/VERSION}, replacing what was there.
     *
     * @param staging folder with the files (inside {@code ROOT/NAME})
     * @param name registered model name
     * @param version version number
     * @param runId source run
     * @param source the version's source URI
     * @param tags the version's tags
     * @return the installed folder
     * @throws IOException on a file system error
     */
    Path install(
            Path staging,
            String name,
            String version,
            String runId,
            String source,
            Map<String, String> tags)
            throws IOException {
        ObjectNode meta = JSON.createObjectNode();
        meta.put("name", name).put("version", version).put("run_id", runId).put("source", source);
        ObjectNode t = meta.putObject("tags");
        new TreeMap<>(tags).forEach(t::put);
        JSON.writerWithDefaultPrettyPrinter()
                .writeValue(staging.resolve(VERSION_FILE).toFile(), meta);
        Path dir = versionDir(name, version);
        if (Files.exists(dir)) {
            Path old = dir.resolveSibling("." + version + ".old-" + System.nanoTime());
            Files.move(dir, old);
            deleteTree(old);
        }
        try {
            Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(staging, dir);
        }
        return dir;
    }

    /**
     * A fresh staging folder for a download, on the same file system as the store.
     *
     * @param name registered model name
     * @return the new empty folder
     * @throws IOException on a file system error
     */
    Path staging(String name) throws IOException {
        Path parent = root.resolve(name);
        Files.createDirectories(parent);
        return Files.createTempDirectory(parent, ".staging-");
    }

    /**
     * The last alias targets seen.
     *
     * @param name registered model name
     * @return alias to version
     * @throws UncheckedIOException if the file cannot be read
     */
    public Map<String, String> aliases(String name) {
        Path f = root.resolve(name).resolve("aliases.json");
        Map<String, String> out = new LinkedHashMap<>();
        if (Files.isRegularFile(f)) {
            try {
                JSON.readTree(f.toFile())
                        .properties()
                        .forEach(e -> out.put(e.getKey(), e.getValue().asText()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f, e);
            }
        }
        return out;
    }

    /**
     * Records where an alias points (atomically replaced file).
     *
     * @param name registered model name
     * @param alias alias
     * @param version version number
     * @throws IOException on a file system error
     */
    public synchronized void recordAlias(String name, String alias, String version)
            throws IOException {
        Map<String, String> aliases = aliases(name);
        if (version.equals(aliases.get(alias))) {
            return;
        }
        aliases.put(alias, version);
        Path dir = root.resolve(name);
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".aliases-", ".json");
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), aliases);
        Files.move(
                tmp,
                dir.resolve("aliases.json"),
                StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Deletes a folder and everything in it; nothing if it does not exist.
     *
     * @param dir the folder
     * @throws IOException on a file system error
     */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

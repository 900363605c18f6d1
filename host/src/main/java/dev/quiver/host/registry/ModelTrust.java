package dev.quiver.host.registry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Which model versions the host accepts by signature (RELIABILITY.md P15): Ed25519 public keys the
 * host trusts, and whether a version without a signature is served.
 *
 * <p>The registrar ({@link ModelSigner}) signs a version's {@link #payload statement}: the sha256
 * of the model file, sidecar and smoke file and the tags that say how the model is served. The host
 * checks the signature right after the model file's size and sha256 and before any parser reads a
 * byte of it, so a file changed after signing is refused even when whoever changed it also rewrote
 * the checksum tags. Signatures use the JDK's own Ed25519 ({@code java.security.Signature
 * "Ed25519"}, RFC 8032); nothing home-made.
 *
 * <p>Configuration (system properties, e.g. {@code JAVA_OPTS=-D...}, else {@code QUIVER_HOME}):
 *
 * <ul>
 *   <li>{@value #TRUSTED_KEYS_KEY}: a folder of trusted public keys ({@code *.pem}, X.509 {@code
 *       PUBLIC KEY}), default {@code QUIVER_HOME/config/trusted-model-keys};
 *   <li>{@value #UNSIGNED_KEY}: {@code refuse} or {@code allow} a version without a signature.
 *       Default: {@code refuse} as soon as the host trusts one key, {@code allow} (with a warning)
 *       while it trusts none. A signed version is always checked when any key is trusted.
 * </ul>
 */
public final class ModelTrust {

    /** System property: folder of trusted Ed25519 public keys. */
    public static final String TRUSTED_KEYS_KEY = "quiver.models.trusted-keys";

    /** System property: {@code refuse} or {@code allow} unsigned versions. */
    public static final String UNSIGNED_KEY = "quiver.models.unsigned";

    /** Tag: base64 Ed25519 signature of {@link #payload}. */
    public static final String TAG_SIGNATURE = "quiver.signature";

    /** Tag: the {@link #keyId id} of the key that signed. */
    public static final String TAG_SIGNING_KEY = "quiver.signing_key";

    /** The version of {@link #payload}'s layout, its first line. */
    static final String PAYLOAD_HEADER = "quiver-model-signature-v1";

    /** The tags a signature covers, in this order. */
    static final List<String> SIGNED_TAGS =
            List.of(
                    ModelStore.TAG_MODEL_FILE,
                    ModelStore.TAG_FORMAT,
                    ModelStore.TAG_TASK,
                    ModelStore.TAG_SIZE,
                    ModelStore.TAG_SHA256,
                    ModelStore.TAG_SIDECAR,
                    ModelStore.TAG_SMOKE,
                    ModelStore.TAG_SMOKE_SHA256,
                    ModelStore.TAG_PLUGIN,
                    ModelStore.TAG_SCHEMA_HASH);

    /** Trusts no key and serves unsigned versions: the embedding default of unit tests. */
    public static final ModelTrust NONE = new ModelTrust(Map.of(), false, "none");

    private final Map<String, PublicKey> keys;
    private final boolean refuseUnsigned;
    private final String where;

    /**
     * A trust configuration.
     *
     * @param keys key id to public key
     * @param refuseUnsigned whether a version without a signature is refused
     * @param where where the keys come from, for messages
     */
    public ModelTrust(Map<String, PublicKey> keys, boolean refuseUnsigned, String where) {
        this.keys = Map.copyOf(keys);
        this.refuseUnsigned = refuseUnsigned;
        this.where = where;
    }

    /**
     * The trust the running host is configured with ({@value #TRUSTED_KEYS_KEY}, {@value
     * #UNSIGNED_KEY}, {@code quiver.home}).
     *
     * @return the configuration
     * @throws IllegalArgumentException if {@value #UNSIGNED_KEY} is neither {@code refuse} nor
     *     {@code allow}, a key file cannot be read as an Ed25519 public key, or {@value
     *     #TRUSTED_KEYS_KEY} names a folder that does not exist or holds no key
     */
    public static ModelTrust configured() {
        return configured(System::getProperty);
    }

    /** {@link #configured()} from the given properties. */
    static ModelTrust configured(java.util.function.UnaryOperator<String> property) {
        Optional<Path> folder = trustedKeysFolder(property);
        Map<String, PublicKey> keys = folder.map(ModelTrust::readKeys).orElse(Map.of());
        String named = property.apply(TRUSTED_KEYS_KEY);
        if (named != null && !named.isBlank() && keys.isEmpty()) {
            // a folder named on purpose that holds no key is a mistake, not a wish to trust nobody
            throw new IllegalArgumentException(
                    "[Quiver/BAD_CONFIG] "
                            + TRUSTED_KEYS_KEY
                            + "="
                            + named
                            + ": "
                            + (Files.isDirectory(Path.of(named))
                                    ? "the folder holds no *.pem public key"
                                    : "no such folder")
                            + "; name a folder of trusted Ed25519 public keys (quiver models keygen"
                            + " writes one), or leave the setting out");
        }
        String unsigned = Optional.ofNullable(property.apply(UNSIGNED_KEY)).orElse("");
        boolean refuse =
                switch (unsigned.trim().toLowerCase(Locale.ROOT)) {
                    case "" -> !keys.isEmpty();
                    case "refuse" -> true;
                    case "allow" -> false;
                    default ->
                            throw new IllegalArgumentException(
                                    "[Quiver/BAD_CONFIG] "
                                            + UNSIGNED_KEY
                                            + "="
                                            + unsigned
                                            + ": expected refuse or allow");
                };
        return new ModelTrust(
                keys,
                refuse,
                folder.map(Path::toString)
                        .orElse("none configured (" + TRUSTED_KEYS_KEY + ", quiver.home unset)"));
    }

    /**
     * The trusted-keys folder: {@value #TRUSTED_KEYS_KEY}, else {@code
     * QUIVER_HOME/config/trusted-model-keys}.
     *
     * @return the folder, if either is set
     */
    public static Optional<Path> trustedKeysFolder() {
        return trustedKeysFolder(System::getProperty);
    }

    private static Optional<Path> trustedKeysFolder(
            java.util.function.UnaryOperator<String> property) {
        String v = property.apply(TRUSTED_KEYS_KEY);
        if (v != null && !v.isBlank()) {
            return Optional.of(Path.of(v));
        }
        String home = property.apply("quiver.home");
        return home == null
                ? Optional.empty()
                : Optional.of(Path.of(home, "config", "trusted-model-keys"));
    }

    /**
     * Reads every {@code *.pem} in a folder as an Ed25519 public key.
     *
     * @param folder the folder (absent: no keys)
     * @return key id to key
     * @throws IllegalArgumentException naming the file that is not an Ed25519 public key
     */
    static Map<String, PublicKey> readKeys(Path folder) {
        Map<String, PublicKey> out = new TreeMap<>();
        if (!Files.isDirectory(folder)) {
            return out;
        }
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".pem")).sorted().toList()) {
                PublicKey k = publicKey(f);
                out.put(keyId(k), k);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read trusted model keys in " + folder, e);
        }
        return out;
    }

    /**
     * An Ed25519 public key from a PEM file ({@code -----BEGIN PUBLIC KEY-----}).
     *
     * @param pem the file
     * @return the key
     * @throws IllegalArgumentException if it is not one
     */
    public static PublicKey publicKey(Path pem) {
        try {
            byte[] der = pemBody(Files.readString(pem, StandardCharsets.US_ASCII), "PUBLIC KEY");
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + pem, e);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_CONFIG] trusted model key "
                            + pem
                            + " is not an Ed25519 public key in PEM (-----BEGIN PUBLIC KEY-----): "
                            + e.getMessage(),
                    e);
        }
    }

    static byte[] pemBody(String text, String type) {
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        if (b < 0 || e < b) {
            throw new IllegalArgumentException("no " + begin + " ... " + end + " block");
        }
        return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
    }

    /**
     * A key's id: the first 16 hex digits of the sha256 of its X.509 encoding.
     *
     * @param key the public key
     * @return e.g. {@code 3f9a0c41d2e8b7a6}
     */
    public static String keyId(PublicKey key) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The statement a signature covers: a header line, then {@code key=value} for each of {@link
     * #SIGNED_TAGS} (empty when absent), then the sidecar's sha256 (computed from its bytes, empty
     * without one).
     *
     * @param tags the version's tags
     * @param sidecarSha256 the sidecar file's sha256, or empty
     * @return UTF-8 bytes
     */
    public static byte[] payload(Map<String, String> tags, String sidecarSha256) {
        StringBuilder s = new StringBuilder(PAYLOAD_HEADER).append('\n');
        for (String t : SIGNED_TAGS) {
            s.append(t).append('=').append(tags.getOrDefault(t, "")).append('\n');
        }
        s.append("sidecar_sha256=").append(sidecarSha256).append('\n');
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Whether any key is trusted.
     *
     * @return true if at least one
     */
    public boolean hasKeys() {
        return !keys.isEmpty();
    }

    /**
     * Whether an unsigned version is refused.
     *
     * @return true if so
     */
    public boolean refusesUnsigned() {
        return refuseUnsigned;
    }

    /**
     * Checks a version's signature.
     *
     * @param model for messages
     * @param tags the version's tags
     * @param sidecarSha256 the sidecar's sha256, or empty
     * @return the signing key's id if the signature was checked and holds; empty if the version is
     *     unsigned (or signed while no key is trusted) and unsigned versions are allowed
     * @throws ModelRefusedException if unsigned while unsigned versions are refused, signed by a
     *     key not trusted, or the signature does not hold
     */
    Optional<String> check(String model, Map<String, String> tags, String sidecarSha256) {
        String sig = tags.get(TAG_SIGNATURE);
        String keyId = tags.get(TAG_SIGNING_KEY);
        if (sig == null || sig.isEmpty()) {
            if (refuseUnsigned) {
                throw new ModelRefusedException(
                        model,
                        "unsigned: no "
                                + TAG_SIGNATURE
                                + " tag, and this host serves only versions signed by a key it"
                                + " trusts ("
                                + where
                                + "; "
                                + UNSIGNED_KEY
                                + "=allow serves unsigned versions) (MODEL_UNSIGNED)");
            }
            return Optional.empty();
        }
        if (keys.isEmpty() && !refuseUnsigned) {
            return Optional.empty();
        }
        PublicKey key = keyId == null ? null : keys.get(keyId);
        if (key == null) {
            throw new ModelRefusedException(
                    model,
                    "signed by key '"
                            + keyId
                            + "', which this host does not trust (trusted: "
                            + keys.keySet()
                            + " in "
                            + where
                            + ") (MODEL_SIGNER_UNKNOWN)");
        }
        boolean ok;
        try {
            Signature v = Signature.getInstance("Ed25519");
            v.initVerify(key);
            v.update(payload(tags, sidecarSha256));
            ok = v.verify(Base64.getDecoder().decode(sig));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            ok = false;
        }
        if (!ok) {
            throw new ModelRefusedException(
                    model,
                    "the signature of key '"
                            + keyId
                            + "' does not hold for these files and tags: the model file, sidecar,"
                            + " smoke file or a signed tag changed after signing"
                            + " (MODEL_SIGNATURE_INVALID)");
        }
        return Optional.of(keyId);
    }

    @Override
    public String toString() {
        return "ModelTrust[keys="
                + keys.keySet()
                + ", unsigned="
                + (refuseUnsigned ? "refuse" : "allow")
                + ", "
                + where
                + "]";
    }
}

package dev.quiver.host.registry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * Signs model versions at registration (RELIABILITY.md P15): an Ed25519 private key (the JDK's own,
 * RFC 8032) signs {@link ModelTrust#payload}, and the registrar tags the version with the signature
 * ({@value ModelTrust#TAG_SIGNATURE}) and the key's id ({@value ModelTrust#TAG_SIGNING_KEY}).
 *
 * <p>The key: {@value #SIGNING_KEY_KEY} (a PEM file, {@code PRIVATE KEY}, PKCS#8), else {@code
 * QUIVER_HOME/config/model-signing-key.pem}. {@code quiver models keygen} makes one and trusts its
 * public key in the same installation.
 */
public final class ModelSigner {

    /** System property: the signing key's PEM file. */
    public static final String SIGNING_KEY_KEY = "quiver.models.signing-key";

    private final PrivateKey key;
    private final String keyId;

    /**
     * A signer.
     *
     * @param key the Ed25519 private key
     * @param publicKey its public key (for the id)
     */
    public ModelSigner(PrivateKey key, PublicKey publicKey) {
        this.key = key;
        this.keyId = ModelTrust.keyId(publicKey);
    }

    /**
     * The signing key file: {@value #SIGNING_KEY_KEY}, else {@code
     * QUIVER_HOME/config/model-signing-key.pem}.
     *
     * @return the path, if either is set
     */
    public static Optional<Path> keyFile() {
        String v = System.getProperty(SIGNING_KEY_KEY);
        if (v != null && !v.isBlank()) {
            return Optional.of(Path.of(v));
        }
        String home = System.getProperty("quiver.home");
        return home == null
                ? Optional.empty()
                : Optional.of(Path.of(home, "config", "model-signing-key.pem"));
    }

    /**
     * The configured signer, if its key file exists.
     *
     * @return the signer, or empty (versions are registered unsigned)
     * @throws IllegalArgumentException if the file is not an Ed25519 private key
     */
    public static Optional<ModelSigner> configured() {
        return keyFile().filter(Files::isRegularFile).map(ModelSigner::read);
    }

    /**
     * Reads a signer from a PEM file holding a PKCS#8 Ed25519 private key and, after it, its public
     * key (as {@link #generate} writes it).
     *
     * @param pem the file
     * @return the signer
     * @throws IllegalArgumentException if the file holds no Ed25519 key pair, or its public key is
     *     not its private key's
     */
    public static ModelSigner read(Path pem) {
        try {
            String text = Files.readString(pem, StandardCharsets.US_ASCII);
            KeyFactory kf = KeyFactory.getInstance("Ed25519");
            PrivateKey priv =
                    kf.generatePrivate(
                            new PKCS8EncodedKeySpec(ModelTrust.pemBody(text, "PRIVATE KEY")));
            PublicKey pub =
                    kf.generatePublic(
                            new java.security.spec.X509EncodedKeySpec(
                                    ModelTrust.pemBody(text, "PUBLIC KEY")));
            // the pair must match, or every version signed with it would be refused by every host
            byte[] probe = pem.toString().getBytes(StandardCharsets.UTF_8);
            java.security.Signature sign = java.security.Signature.getInstance("Ed25519");
            sign.initSign(priv);
            sign.update(probe);
            byte[] signature = sign.sign();
            java.security.Signature verify = java.security.Signature.getInstance("Ed25519");
            verify.initVerify(pub);
            verify.update(probe);
            if (!verify.verify(signature)) {
                throw new IllegalArgumentException(
                        "the PUBLIC KEY is not the PRIVATE KEY's (a signature made with the private"
                                + " key does not verify with it)");
            }
            return new ModelSigner(priv, pub);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + pem, e);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_CONFIG] model signing key "
                            + pem
                            + " is not an Ed25519 key pair in PEM (PRIVATE KEY, then PUBLIC KEY): "
                            + e.getMessage(),
                    e);
        }
    }

    /**
     * Makes a new Ed25519 key pair: writes the private key (and its public key) to {@code keyFile}
     * (owner read/write only where the file system has POSIX permissions) and the public key to
     * {@code trustedKeys/model-key-ID.pem}.
     *
     * @param keyFile where the private key goes; must not exist
     * @param trustedKeys the trusted-keys folder the public key goes to (created if needed)
     * @return the new signer
     * @throws IOException on a file system error, or if {@code keyFile} exists
     */
    public static ModelSigner generate(Path keyFile, Path trustedKeys) throws IOException {
        if (Files.exists(keyFile)) {
            throw new FileAlreadyExistsException(
                    keyFile.toString(), null, "a model signing key is already there");
        }
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK offers no Ed25519", e);
        }
        String pub = pem("PUBLIC KEY", pair.getPublic().getEncoded());
        Files.createDirectories(keyFile.toAbsolutePath().getParent());
        Path tmp = Files.createTempFile(keyFile.toAbsolutePath().getParent(), ".key-", ".pem");
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the folder's own access rules apply
        }
        Files.writeString(
                tmp,
                pem("PRIVATE KEY", pair.getPrivate().getEncoded()) + pub,
                StandardCharsets.US_ASCII);
        Files.move(tmp, keyFile);
        ModelSigner signer = new ModelSigner(pair.getPrivate(), pair.getPublic());
        Files.createDirectories(trustedKeys);
        Files.writeString(
                trustedKeys.resolve("model-key-" + signer.keyId() + ".pem"),
                pub,
                StandardCharsets.US_ASCII);
        return signer;
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN "
                + type
                + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END "
                + type
                + "-----\n";
    }

    /**
     * The key's id ({@link ModelTrust#keyId}).
     *
     * @return 16 hex digits
     */
    public String keyId() {
        return keyId;
    }

    /**
     * The signature tags of a version.
     *
     * @param tags its other tags
     * @param sidecar its sidecar file, if any
     * @return {@value ModelTrust#TAG_SIGNING_KEY} and {@value ModelTrust#TAG_SIGNATURE}
     * @throws IOException if the sidecar cannot be read
     */
    public Map<String, String> sign(Map<String, String> tags, Optional<Path> sidecar)
            throws IOException {
        String sidecarSha = sidecar.isPresent() ? ModelStore.sha256(sidecar.get()) : "";
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update(ModelTrust.payload(tags, sidecarSha));
            return Map.of(
                    ModelTrust.TAG_SIGNING_KEY,
                    keyId,
                    ModelTrust.TAG_SIGNATURE,
                    Base64.getEncoder().encodeToString(s.sign()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed", e);
        }
    }
}

package dev.quiver.host.plugin;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSigner;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * Which plugin archives the host runs (RELIABILITY.md P5): an archive is trusted if its sha256 is
 * on the {@link TrustList} or if every entry of it is signed (jarsigner format, checked by the
 * JDK's own {@link JarFile} verification) by a key whose certificate is a configured trusted
 * signer. Anything else is refused before PF4J sees it, so no class of it is ever defined.
 *
 * <p>Where the trust comes from, in this order: the configuration keys {@value #TRUST_LIST_KEY} (a
 * file) and {@value #SIGNERS_KEY} (a folder of X.509 certificates, PEM or DER, or one such file),
 * else the JVM system properties of the same names, else {@code QUIVER_HOME/config/trusted-plugins}
 * and {@code QUIVER_HOME/config/trusted-signers} when {@code quiver.home} is set (as {@code
 * bin/quiver} does). With none of them nothing is trusted.
 *
 * <p>A signer is trusted when the certificate of the key that signed is one of the configured
 * certificates (the certificate is pinned; certificate chains and expiry are not evaluated).
 */
public final class PluginTrust {

    /** Configuration key (or JVM system property) naming the trust list file. */
    public static final String TRUST_LIST_KEY = "quiver.plugins.trust-list";

    /** Configuration key (or JVM system property) naming the trusted signers' certificates. */
    public static final String SIGNERS_KEY = "quiver.plugins.trusted-signers";

    private final Path trustList;
    private final Path signers;
    private final boolean admitted;

    private PluginTrust(Path trustList, Path signers, boolean admitted) {
        this.trustList = trustList;
        this.signers = signers;
        this.admitted = admitted;
    }

    /**
     * The trust in force for a plugin configuration (see the class comment for the order).
     *
     * @param config plugin configuration
     * @return the policy; its list and signers may be absent (then nothing is trusted)
     */
    public static PluginTrust from(Map<String, String> config) {
        return new PluginTrust(
                locate(config, TRUST_LIST_KEY, "trusted-plugins").orElse(null),
                locate(config, SIGNERS_KEY, "trusted-signers").orElse(null),
                false);
    }

    /**
     * A policy for a folder the host itself made of plugins another runtime already admitted (the
     * child-JVM smoke check links the loaded form of such a plugin): everything in it is taken as
     * trusted, expanded folders included.
     */
    static PluginTrust admittedByParent() {
        return new PluginTrust(null, null, true);
    }

    /**
     * Where the trust list is for a configuration: its {@value #TRUST_LIST_KEY}, else the system
     * property, else {@code QUIVER_HOME/config/trusted-plugins}.
     *
     * @param config plugin configuration
     * @return the file (which may not exist yet), or empty if none is configured
     */
    public static Optional<Path> trustListOf(Map<String, String> config) {
        return locate(config, TRUST_LIST_KEY, "trusted-plugins");
    }

    /**
     * Where the trusted signers' certificates are for a configuration (as {@link #trustListOf}).
     *
     * @param config plugin configuration
     * @return the folder or file (which may not exist), or empty if none is configured
     */
    public static Optional<Path> signersOf(Map<String, String> config) {
        return locate(config, SIGNERS_KEY, "trusted-signers");
    }

    private static Optional<Path> locate(Map<String, String> config, String key, String name) {
        String v = config.get(key);
        if (v == null || v.isBlank()) {
            v = System.getProperty(key);
        }
        if (v != null && !v.isBlank()) {
            return Optional.of(Path.of(v.strip()));
        }
        String home = System.getProperty("quiver.home");
        return home == null ? Optional.empty() : Optional.of(Path.of(home, "config", name));
    }

    /**
     * What the trust configuration looks like on disk now (each file's time, size and key): it
     * differs after {@code quiver plugins trust|untrust} or a change of the signers, so a running
     * service can check its untrusted archives again.
     */
    String stamp() {
        var out = new StringBuilder();
        for (Path p : new Path[] {trustList, signers}) {
            if (p == null) {
                continue;
            }
            try (Stream<Path> s = Files.isDirectory(p) ? Files.list(p) : Stream.of(p)) {
                for (Path f : s.sorted().toList()) {
                    var a =
                            Files.readAttributes(
                                    f, java.nio.file.attribute.BasicFileAttributes.class);
                    out.append(f)
                            .append(a.lastModifiedTime())
                            .append(a.size())
                            .append(a.fileKey())
                            .append(';');
                }
            } catch (IOException e) {
                out.append(p).append(" missing;");
            }
        }
        return out.toString();
    }

    /** Codes of the refusals this policy makes: checked again when {@link #stamp()} changes. */
    static final java.util.Set<String> CODES =
            java.util.Set.of(
                    "PLUGIN_UNSIGNED",
                    "PLUGIN_SHA_NOT_ALLOWED",
                    "PLUGIN_SIGNER_UNKNOWN",
                    "PLUGIN_SIGNATURE_INVALID",
                    "PLUGIN_TRUST_UNREADABLE");

    /** Whether this policy checks at all (false only for {@link #admittedByParent()}). */
    boolean checks() {
        return !admitted;
    }

    /**
     * The trusted signers' certificates.
     *
     * @param location a folder ({@code *.pem}, {@code *.crt}, {@code *.cer}, {@code *.der}) or one
     *     certificate file; a missing location holds none
     * @return the certificates, in file-name order
     * @throws IllegalArgumentException if a file is not a certificate, naming it
     */
    public static List<X509Certificate> certificates(Path location) {
        if (location == null || !Files.exists(location)) {
            return List.of();
        }
        List<Path> files;
        if (Files.isDirectory(location)) {
            try (Stream<Path> s = Files.list(location)) {
                files =
                        s.filter(Files::isRegularFile)
                                .filter(
                                        p -> {
                                            String n =
                                                    p.getFileName()
                                                            .toString()
                                                            .toLowerCase(Locale.ROOT);
                                            return n.endsWith(".pem")
                                                    || n.endsWith(".crt")
                                                    || n.endsWith(".cer")
                                                    || n.endsWith(".der");
                                        })
                                .sorted()
                                .toList();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list trusted signers in " + location, e);
            }
        } else {
            files = List.of(location);
        }
        var out = new ArrayList<X509Certificate>();
        for (Path f : files) {
            try (InputStream in = Files.newInputStream(f)) {
                for (Certificate c :
                        CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    out.add((X509Certificate) c);
                }
            } catch (IOException | CertificateException e) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_TRUSTED_SIGNER] "
                                + f
                                + " is not an X.509 certificate (PEM or DER): "
                                + e.getMessage()
                                + ". Hint: export one with `keytool -exportcert -rfc -alias A"
                                + " -keystore K -file "
                                + f.getFileName()
                                + "`.",
                        e);
            }
        }
        return List.copyOf(out);
    }

    /**
     * The trust-list entry for an archive: its sha256, declared id and version, file name.
     *
     * @param archive a plugin {@code .zip} or {@code .jar}
     * @return the entry to add
     * @throws IllegalArgumentException if it is not a file, cannot be read as a plugin, or holds an
     *     entry that would be written outside its folder (such an archive is refused whatever the
     *     trust, so trusting it is refused too)
     */
    public static TrustList.Entry entryFor(Path archive) {
        if (!Files.isRegularFile(archive)) {
            throw new IllegalArgumentException(
                    "[Quiver/NOT_AN_ARCHIVE] " + archive + " is not a plugin zip or jar file");
        }
        String problem = ManifestHeaders.problemWith(archive);
        if (problem != null) {
            throw new IllegalArgumentException(
                    "[Quiver/PLUGIN_UNREADABLE] " + archive + " is not trusted: " + problem);
        }
        Map<String, String> headers = ManifestHeaders.read(archive);
        try {
            return new TrustList.Entry(
                    ExpandedZips.sha256(archive),
                    headers.get("Plugin-Id"),
                    headers.getOrDefault("Plugin-Version", "-"),
                    archive.getFileName().toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + archive, e);
        }
    }

    /**
     * The SHA-256 fingerprint of a certificate, as {@code keytool -list -v} prints it.
     *
     * @param cert a certificate
     * @return upper-case hex pairs separated by colons
     */
    public static String fingerprint(Certificate cert) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot fingerprint " + cert, e);
        }
    }

    /**
     * Why an archive is not trusted, or null if it is.
     *
     * @param archive the archive in the plugins folder (named in the refusal)
     * @param content the bytes that will be loaded: the archive itself or its staged copy
     * @param sha256 the sha256 of {@code content}
     * @param pluginId its declared {@code Plugin-Id}, or the file name
     * @return the refusal, or null if trusted
     */
    PluginRefusal check(Path archive, Path content, String sha256, String pluginId) {
        if (admitted) {
            return null;
        }
        List<TrustList.Entry> entries;
        List<X509Certificate> trusted;
        try {
            entries = trustList == null ? List.of() : TrustList.read(trustList);
            trusted = certificates(signers);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            return refusal(
                    "PLUGIN_TRUST_UNREADABLE",
                    pluginId,
                    archive,
                    "the trust configuration cannot be read: " + e.getMessage(),
                    "fix or remove the named file");
        }
        if (entries.stream().anyMatch(e -> e.sha256().equals(sha256))) {
            return null;
        }
        Signature sig = signature(content);
        String hint = hint(archive);
        if (sig.kind == SignatureKind.INVALID) {
            return refusal(
                    "PLUGIN_SIGNATURE_INVALID",
                    pluginId,
                    archive,
                    "its signature does not verify: "
                            + sig.detail
                            + "; its sha256 "
                            + sha256
                            + " is not on the trust list either",
                    "rebuild and sign it again; never change a signed archive");
        }
        if (sig.kind == SignatureKind.SIGNED) {
            for (X509Certificate c : trusted) {
                if (c.equals(sig.signer)) {
                    return null;
                }
            }
            return refusal(
                    "PLUGIN_SIGNER_UNKNOWN",
                    pluginId,
                    archive,
                    "it is signed by '"
                            + sig.signer.getSubjectX500Principal().getName()
                            + "' (certificate SHA-256 "
                            + fingerprint(sig.signer)
                            + "), which is not a trusted signer (trusted: "
                            + describe(trusted)
                            + " in "
                            + (signers == null ? "no signers folder configured" : signers)
                            + "), and its sha256 "
                            + sha256
                            + " is not on the trust list",
                    "if you trust that key, add its certificate to "
                            + (signers == null ? "QUIVER_HOME/config/trusted-signers/" : signers)
                            + " (keytool -exportcert -rfc); or "
                            + hint);
        }
        List<TrustList.Entry> sameId =
                entries.stream().filter(e -> e.pluginId().equals(pluginId)).toList();
        if (!sameId.isEmpty()) {
            return refusal(
                    "PLUGIN_SHA_NOT_ALLOWED",
                    pluginId,
                    archive,
                    "it is unsigned and its sha256 "
                            + sha256
                            + " is not allowed: the trust list "
                            + trustList
                            + " trusts plugin '"
                            + pluginId
                            + "' only as "
                            + sameId.stream()
                                    .map(
                                            e ->
                                                    e.sha256()
                                                            + " ("
                                                            + e.version()
                                                            + ", "
                                                            + e.fileName()
                                                            + ")")
                                    .collect(Collectors.joining(", "))
                            + ", so this file is not the build that was trusted",
                    "if this build is yours, " + hint);
        }
        return refusal(
                "PLUGIN_UNSIGNED",
                pluginId,
                archive,
                "it is unsigned and its sha256 "
                        + sha256
                        + " is not on the trust list ("
                        + (trustList == null
                                ? "none configured: quiver.home is not set and neither is "
                                        + TRUST_LIST_KEY
                                : trustList)
                        + ")",
                "if you trust this file, " + hint);
    }

    private static String hint(Path archive) {
        return "run `quiver plugins trust " + archive + "`";
    }

    private static String describe(List<X509Certificate> certs) {
        if (certs.isEmpty()) {
            return "none";
        }
        return certs.stream()
                .map(c -> "'" + c.getSubjectX500Principal().getName() + "'")
                .collect(Collectors.joining(", "));
    }

    private static PluginRefusal refusal(
            String code, String pluginId, Path archive, String why, String hint) {
        return new PluginRefusal(
                code,
                pluginId,
                archive,
                "[Quiver/"
                        + code
                        + "] Plugin '"
                        + pluginId
                        + "' ("
                        + archive.getFileName()
                        + ") is not trusted: "
                        + why
                        + ". Nothing of it was loaded. Where: "
                        + archive
                        + ". Hint: "
                        + hint
                        + ". Learn more: docs/plugin-trust.md");
    }

    enum SignatureKind {
        UNSIGNED,
        SIGNED,
        INVALID
    }

    /** What the JDK's jar verification says of an archive; {@code signer} when SIGNED. */
    record Signature(SignatureKind kind, X509Certificate signer, String detail) {}

    /**
     * Verifies an archive's jarsigner signature with {@link JarFile}'s own verification: every
     * entry is read to its end (a digest mismatch throws there), every entry but the signature
     * files must carry the same single signer, and every entry the signed manifest names must be
     * present.
     *
     * @param archive a zip or jar
     * @return unsigned (no {@code META-INF/*.SF}), signed with its signer, or invalid with why
     */
    static Signature signature(Path archive) {
        try (JarFile jar = new JarFile(archive.toFile(), true, ZipFile.OPEN_READ)) {
            boolean hasSignatureFile =
                    jar.stream()
                            .map(e -> e.getName().toUpperCase(Locale.ROOT))
                            .anyMatch(
                                    n ->
                                            n.startsWith("META-INF/")
                                                    && n.endsWith(".SF")
                                                    && n.indexOf('/', "META-INF/".length()) < 0);
            if (!hasSignatureFile) {
                return new Signature(SignatureKind.UNSIGNED, null, "");
            }
            X509Certificate signer = null;
            List<String> names = new ArrayList<>();
            for (JarEntry e : jar.stream().toList()) {
                names.add(e.getName());
                if (e.isDirectory() || isSignatureFile(e.getName())) {
                    continue;
                }
                try (InputStream in = jar.getInputStream(e)) {
                    in.transferTo(OutputStream.nullOutputStream());
                } catch (SecurityException ex) {
                    return new Signature(
                            SignatureKind.INVALID,
                            null,
                            "entry "
                                    + e.getName()
                                    + " was changed after signing ("
                                    + ex.getMessage()
                                    + ")");
                }
                CodeSigner[] signers = e.getCodeSigners();
                if (signers == null || signers.length == 0) {
                    return new Signature(
                            SignatureKind.INVALID,
                            null,
                            "entry "
                                    + e.getName()
                                    + " is not covered by the signature (added or changed after"
                                    + " signing, or signed with a disabled algorithm)");
                }
                if (signers.length > 1) {
                    return new Signature(
                            SignatureKind.INVALID,
                            null,
                            "entry " + e.getName() + " has " + signers.length + " signers");
                }
                var cert =
                        (X509Certificate) signers[0].getSignerCertPath().getCertificates().get(0);
                if (signer == null) {
                    signer = cert;
                } else if (!signer.equals(cert)) {
                    return new Signature(
                            SignatureKind.INVALID,
                            null,
                            "entry "
                                    + e.getName()
                                    + " is signed by '"
                                    + cert.getSubjectX500Principal().getName()
                                    + "', other entries by '"
                                    + signer.getSubjectX500Principal().getName()
                                    + "'");
                }
            }
            var manifest = jar.getManifest();
            if (manifest != null) {
                for (String named : manifest.getEntries().keySet()) {
                    if (!names.contains(named)) {
                        return new Signature(
                                SignatureKind.INVALID,
                                null,
                                "entry " + named + " is signed but missing from the archive");
                    }
                }
            }
            if (signer == null) {
                return new Signature(
                        SignatureKind.INVALID, null, "it has a signature file but nothing signed");
            }
            return new Signature(SignatureKind.SIGNED, signer, "");
        } catch (SecurityException e) {
            return new Signature(
                    SignatureKind.INVALID, null, "the signature file is invalid (" + e + ")");
        } catch (IOException e) {
            return new Signature(
                    SignatureKind.INVALID, null, "it cannot be read as a jar (" + e + ")");
        }
    }

    /** {@code META-INF/MANIFEST.MF}, {@code META-INF/X.SF|RSA|DSA|EC}, {@code META-INF/SIG-*}. */
    private static boolean isSignatureFile(String name) {
        String n = name.toUpperCase(Locale.ROOT);
        if (!n.startsWith("META-INF/") || n.indexOf('/', "META-INF/".length()) >= 0) {
            return false;
        }
        String base = n.substring("META-INF/".length());
        return base.equals("MANIFEST.MF")
                || base.endsWith(".SF")
                || base.endsWith(".RSA")
                || base.endsWith(".DSA")
                || base.endsWith(".EC")
                || base.startsWith("SIG-");
    }

    /**
     * A sentence saying where trust comes from, for reports.
     *
     * @return e.g. "trust list /q/config/trusted-plugins; trusted signers
     *     /q/config/trusted-signers"
     */
    public String describe() {
        if (admitted) {
            return "admitted by the parent runtime";
        }
        return "trust list "
                + (trustList == null ? "(none configured)" : trustList)
                + "; trusted signers "
                + (signers == null ? "(none configured)" : signers);
    }
}

package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import jdk.security.jarsigner.JarSigner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trust list file and the signature check on small archives made here: the kinds of archive
 * {@code TrustedPluginsIT} does not build (an entry added after signing, a signed entry removed, an
 * unsigned jar that has a manifest), and a damaged list named by file and line.
 */
class PluginTrustTest {

    static final String PASSWORD = "unit-test-only";

    @TempDir Path dir;

    @Test
    void theListKeepsOneEntryPerShaAndRemovesByMatch() {
        Path list = dir.resolve("config/trusted-plugins");
        var a = new TrustList.Entry("a".repeat(64), "plugin-a", "1.0.0", "a.zip");
        var b = new TrustList.Entry("b".repeat(64), "plugin-b", "2.0.0", "b file.zip");
        assertThat(TrustList.add(list, a)).isTrue();
        assertThat(TrustList.add(list, a)).isFalse();
        assertThat(TrustList.add(list, b)).isTrue();
        assertThat(TrustList.read(list)).containsExactly(a, b);
        assertThat(TrustList.remove(list, e -> e.pluginId().equals("plugin-a"))).containsExactly(a);
        assertThat(TrustList.read(list)).containsExactly(b);
        assertThat(TrustList.remove(list, e -> false)).isEmpty();
    }

    @Test
    void aDamagedLineIsNamedByFileAndLine() throws Exception {
        Path list = dir.resolve("trusted-plugins");
        Files.writeString(
                list, "# comment\n" + "c".repeat(64) + " x 1 x.zip\nnot-a-sha x 1 y.zip\n");
        assertThatThrownBy(() -> TrustList.read(list))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(list + " line 3")
                .hasMessageContaining("'not-a-sha'");
        var r =
                PluginTrust.from(Map.of(PluginTrust.TRUST_LIST_KEY, list.toString()))
                        .check(list, list, "d".repeat(64), "p");
        assertThat(r.code()).isEqualTo("PLUGIN_TRUST_UNREADABLE");
    }

    @Test
    void unsignedSignedAddedAfterSigningAndRemovedAfterSigning() throws Exception {
        Path plain = zip(dir.resolve("plain.zip"), List.of("classes/A.class", "lib/x.txt"), true);
        assertThat(PluginTrust.signature(plain).kind())
                .isEqualTo(PluginTrust.SignatureKind.UNSIGNED);

        Path store = keyPair("unit");
        Path signed = dir.resolve("signed.zip");
        sign(plain, store, "unit", signed);
        PluginTrust.Signature s = PluginTrust.signature(signed);
        assertThat(s.kind()).isEqualTo(PluginTrust.SignatureKind.SIGNED);
        assertThat(s.signer().getSubjectX500Principal().getName()).isEqualTo("CN=Unit signer");

        Path added = dir.resolve("added.zip");
        copy(signed, added, null, "classes/B.class");
        assertThat(PluginTrust.signature(added))
                .satisfies(x -> assertThat(x.kind()).isEqualTo(PluginTrust.SignatureKind.INVALID))
                .satisfies(
                        x ->
                                assertThat(x.detail())
                                        .contains(
                                                "classes/B.class is not covered by the signature"));

        Path removed = dir.resolve("removed.zip");
        copy(signed, removed, "lib/x.txt", null);
        assertThat(PluginTrust.signature(removed))
                .satisfies(x -> assertThat(x.kind()).isEqualTo(PluginTrust.SignatureKind.INVALID))
                .satisfies(x -> assertThat(x.detail()).contains("lib/x.txt is signed but missing"));

        // Trusted by its pinned certificate; the same archive is unknown without it.
        Path signers = Files.createDirectories(dir.resolve("signers"));
        Path none = dir.resolve("empty-list");
        var withoutSigner =
                PluginTrust.from(
                        Map.of(
                                PluginTrust.TRUST_LIST_KEY, none.toString(),
                                PluginTrust.SIGNERS_KEY, signers.toString()));
        assertThat(withoutSigner.check(signed, signed, "e".repeat(64), "p").code())
                .isEqualTo("PLUGIN_SIGNER_UNKNOWN");
        Files.write(signers.resolve("unit.pem"), s.signer().getEncoded());
        assertThat(withoutSigner.check(signed, signed, "e".repeat(64), "p")).isNull();
        assertThat(withoutSigner.check(added, added, "e".repeat(64), "p").code())
                .isEqualTo("PLUGIN_SIGNATURE_INVALID");
        assertThat(withoutSigner.check(plain, plain, "e".repeat(64), "p").code())
                .isEqualTo("PLUGIN_UNSIGNED");
    }

    /** A zip with the named entries (and a top-level jar manifest if asked). */
    static Path zip(Path target, List<String> names, boolean manifest) throws Exception {
        try (var zos = new ZipOutputStream(Files.newOutputStream(target))) {
            if (manifest) {
                zos.putNextEntry(new ZipEntry("META-INF/MANIFEST.MF"));
                var mf = new Manifest();
                mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
                mf.write(zos);
                zos.closeEntry();
            }
            for (String n : names) {
                zos.putNextEntry(new ZipEntry(n));
                zos.write(("content of " + n).getBytes(StandardCharsets.UTF_8));
                zos.closeEntry();
            }
        }
        return target;
    }

    /** Copies a zip, leaving out {@code drop} and adding {@code add} (each may be null). */
    static void copy(Path in, Path out, String drop, String add) throws Exception {
        try (var zip = new ZipFile(in.toFile());
                var zos = new ZipOutputStream(Files.newOutputStream(out))) {
            for (ZipEntry e : zip.stream().toList()) {
                if (e.getName().equals(drop)) {
                    continue;
                }
                zos.putNextEntry(new ZipEntry(e.getName()));
                try (InputStream s = zip.getInputStream(e)) {
                    s.transferTo(zos);
                }
                zos.closeEntry();
            }
            if (add != null) {
                zos.putNextEntry(new ZipEntry(add));
                zos.write(1);
                zos.closeEntry();
            }
        }
    }

    Path keyPair(String alias) throws Exception {
        Path store = dir.resolve(alias + ".p12");
        var cmd = new ArrayList<String>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(
                List.of(
                        "-genkeypair",
                        "-alias",
                        alias,
                        "-keyalg",
                        "EC",
                        "-groupname",
                        "secp256r1",
                        "-dname",
                        "CN=Unit signer",
                        "-validity",
                        "2",
                        "-storetype",
                        "PKCS12",
                        "-keystore",
                        store.toString(),
                        "-storepass",
                        PASSWORD,
                        "-keypass",
                        PASSWORD));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        return store;
    }

    static void sign(Path in, Path store, String alias, Path out) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream s = Files.newInputStream(store)) {
            ks.load(s, PASSWORD.toCharArray());
        }
        var path =
                CertificateFactory.getInstance("X.509")
                        .generateCertPath(List.of((X509Certificate) ks.getCertificate(alias)));
        JarSigner signer =
                new JarSigner.Builder((PrivateKey) ks.getKey(alias, PASSWORD.toCharArray()), path)
                        .digestAlgorithm("SHA-256")
                        .build();
        try (ZipFile zip = new ZipFile(in.toFile());
                OutputStream os = Files.newOutputStream(out)) {
            signer.sign(zip, os);
        }
    }
}

package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.host.cli.Cli;
import dev.quiver.host.web.QuiverServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertPath;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedClass;
import jdk.jfr.consumer.RecordedClassLoader;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import jdk.security.jarsigner.JarSigner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md P5 (bad input 3): only trusted plugin code is ever loaded, and extraction never
 * writes outside the plugins folder. Six archives made at test time from the built template plugin,
 * with keys made by the JDK's keytool and signatures made by the JDK's {@link JarSigner}:
 *
 * <ol>
 *   <li>signed by the trusted key: loads;
 *   <li>unsigned (and not on the trust list): {@code PLUGIN_UNSIGNED};
 *   <li>signed by a key nobody trusts: {@code PLUGIN_SIGNER_UNKNOWN};
 *   <li>signed by the trusted key, then one {@code .class} changed: {@code
 *       PLUGIN_SIGNATURE_INVALID};
 *   <li>a new build of a plugin whose earlier build is on the trust list: {@code
 *       PLUGIN_SHA_NOT_ALLOWED};
 *   <li>signed by the trusted key, with a {@code ../../} and an absolute-path entry: refused for
 *       its paths, nothing extracted.
 * </ol>
 *
 * Five refusals, each before any class of it is defined (the JVM's own {@code jdk.ClassDefine}
 * events, recorded with JFR, show only the trusted plugin's class loader defining template
 * classes), no file created outside the plugins folder, and each reason on the CLI, in {@code GET
 * /v1/plugins} and in the log.
 */
class TrustedPluginsIT {

    static final Path TEMPLATE =
            Path.of(System.getProperty("quiver.testPlugins"))
                    .resolve("quiver-plugin-template-1.0.0.zip");
    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final String PASSWORD = "p5-test-only";
    static final String TEMPLATE_PACKAGE = "dev.quiver.plugins.template.";
    static final String CHANGED_CLASS =
            "classes/dev/quiver/plugins/template/MomentumForecaster.class";

    @TempDir Path root;
    Path plugins;
    Path trustList;
    Path signers;
    Path absoluteTarget;
    Map<String, String> config;

    @BeforeEach
    void sixArchives() throws Exception {
        plugins = Files.createDirectories(root.resolve("plugins"));
        Path keys = Files.createDirectories(root.resolve("keys"));
        Path work = Files.createDirectories(root.resolve("work"));
        signers = Files.createDirectories(root.resolve("config/trusted-signers"));
        trustList = root.resolve("config/trusted-plugins");
        config =
                Map.of(
                        PluginTrust.TRUST_LIST_KEY, trustList.toString(),
                        PluginTrust.SIGNERS_KEY, signers.toString());
        Path trustedStore = keytoolKeyPair(keys, "trusted", "CN=Quiver P5 trusted publisher");
        Path unknownStore = keytoolKeyPair(keys, "stranger", "CN=Quiver P5 unknown publisher");
        keytool(
                "-exportcert",
                "-rfc",
                "-alias",
                "trusted",
                "-keystore",
                trustedStore.toString(),
                "-storepass",
                PASSWORD,
                "-file",
                signers.resolve("trusted.pem").toString());

        Path signedTrusted = variant(work.resolve("a.zip"), "p5-signed-trusted", "1.0.0");
        sign(signedTrusted, trustedStore, "trusted", plugins.resolve("a-signed-trusted.zip"));

        variant(plugins.resolve("b-unsigned.zip"), "p5-unsigned", "1.0.0");

        Path unknown = variant(work.resolve("c.zip"), "p5-unknown-key", "1.0.0");
        sign(unknown, unknownStore, "stranger", plugins.resolve("c-unknown-key.zip"));

        Path modified = variant(work.resolve("d.zip"), "p5-class-modified", "1.0.0");
        Path signedModified = work.resolve("d-signed.zip");
        sign(modified, trustedStore, "trusted", signedModified);
        flipOneByteOf(signedModified, CHANGED_CLASS, plugins.resolve("d-class-modified.zip"));

        // The operator trusted build 1.0.0 of this plugin; 1.0.1 is what lies in the folder.
        Path trustedBuild = variant(work.resolve("e-1.0.0.zip"), "p5-sha-not-allowed", "1.0.0");
        cli(0, "plugins", "trust", "-D", trustKey(), trustedBuild.toString());
        variant(plugins.resolve("e-sha-not-allowed.zip"), "p5-sha-not-allowed", "1.0.1");

        absoluteTarget =
                Path.of(System.getProperty("java.io.tmpdir"))
                        .resolve("quiver-p5-" + UUID.randomUUID() + ".txt")
                        .toAbsolutePath();
        Path slip = variant(work.resolve("f.zip"), "p5-zip-slip", "1.0.0");
        withEntries(slip, List.of("../../x", absoluteTarget.toString()));
        sign(slip, trustedStore, "trusted", plugins.resolve("f-zip-slip.zip"));
        // Signed by the trusted key, so only its paths can refuse it.
        assertThat(PluginTrust.signature(plugins.resolve("f-zip-slip.zip")).kind())
                .isEqualTo(PluginTrust.SignatureKind.SIGNED);
    }

    @Test
    void fiveOfSixAreRefusedBeforeAnyClassIsDefinedNothingEscapesAndEachReasonIsShown()
            throws Exception {
        Set<String> outsideBefore = filesOutsidePlugins();
        // The temporary folder's parent is shared (/tmp): an "x" another program left there is
        // not ours; what must hold is that this run neither created nor changed it.
        Path sharedX = root.getParent().resolve("x");
        String sharedXBefore = describe(sharedX);
        Path jfr = root.resolve("work/class-define.jfr");
        String pluginsJson;
        List<PluginRefusal> refusals;
        try (Recording recording = new Recording()) {
            recording.enable("jdk.ClassDefine");
            recording.start();
            try (PluginRuntime runtime = PluginRuntime.start(plugins, config);
                    QuiverServer server = QuiverServer.start(runtime, "127.0.0.1", 0, 1.0)) {
                assertThat(runtime.plugins())
                        .extracting(LoadedPlugin::id)
                        .containsExactly("p5-signed-trusted");
                assertThat(runtime.predictions()).hasSize(1);
                refusals = runtime.refusals();
                pluginsJson = get(server.port(), "/v1/plugins");
            }
            recording.stop();
            recording.dump(jfr);
        }

        // Five refusals, each with its reason.
        Map<String, PluginRefusal> byId = new HashMap<>();
        refusals.forEach(r -> byId.put(r.pluginId(), r));
        assertThat(refusals).as(refusals.toString()).hasSize(5);
        assertThat(byId.get("p5-unsigned").code()).isEqualTo("PLUGIN_UNSIGNED");
        assertThat(byId.get("p5-unsigned").message())
                .contains("is unsigned and its sha256")
                .contains("is not on the trust list (" + trustList + ")")
                .contains("quiver plugins trust " + plugins.resolve("b-unsigned.zip"));
        assertThat(byId.get("p5-unknown-key").code()).isEqualTo("PLUGIN_SIGNER_UNKNOWN");
        assertThat(byId.get("p5-unknown-key").message())
                .contains("signed by 'CN=Quiver P5 unknown publisher'")
                .contains(
                        "which is not a trusted signer (trusted: 'CN=Quiver P5 trusted publisher'");
        assertThat(byId.get("p5-class-modified").code()).isEqualTo("PLUGIN_SIGNATURE_INVALID");
        assertThat(byId.get("p5-class-modified").message())
                .contains("entry " + CHANGED_CLASS + " was changed after signing");
        assertThat(byId.get("p5-sha-not-allowed").code()).isEqualTo("PLUGIN_SHA_NOT_ALLOWED");
        assertThat(byId.get("p5-sha-not-allowed").message())
                .contains("trusts plugin 'p5-sha-not-allowed' only as")
                .contains("(1.0.0, e-1.0.0.zip)");
        PluginRefusal slip = byId.get("f-zip-slip.zip");
        assertThat(slip.code()).isEqualTo("PLUGIN_UNREADABLE");
        assertThat(slip.message())
                .contains("'../../x', '" + absoluteTarget + "' would be written outside");

        // The same reasons in GET /v1/plugins.
        JsonNode body = new ObjectMapper().readTree(pluginsJson);
        assertThat(body.get("refusals")).hasSize(5);
        var codes = new TreeSet<String>();
        for (JsonNode r : body.get("refusals")) {
            codes.add(r.get("code").asText());
            assertThat(r.get("message").asText())
                    .isEqualTo(byId.get(r.get("plugin_id").asText()).message());
        }
        assertThat(codes)
                .containsExactly(
                        "PLUGIN_SHA_NOT_ALLOWED",
                        "PLUGIN_SIGNATURE_INVALID",
                        "PLUGIN_SIGNER_UNKNOWN",
                        "PLUGIN_UNREADABLE",
                        "PLUGIN_UNSIGNED");

        // No class of a refused archive was ever defined: every template class the JVM defined
        // came from one class loader, the trusted plugin's, and it did define some.
        var loaders = new HashSet<Long>();
        var defined = new TreeSet<String>();
        for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
            RecordedClass c = e.getValue("definedClass");
            if (c != null && c.getName().startsWith(TEMPLATE_PACKAGE)) {
                RecordedClassLoader loader = e.getValue("definingClassLoader");
                loaders.add(loader == null ? -1L : loader.getId());
                defined.add(c.getName());
            }
        }
        assertThat(defined).contains(TEMPLATE_PACKAGE + "MomentumForecaster");
        assertThat(loaders).as("class loaders that defined template classes").hasSize(1);

        // Only the trusted archive was expanded; nothing appeared outside the plugins folder.
        try (Stream<Path> s = Files.list(plugins)) {
            assertThat(s.filter(Files::isDirectory).map(p -> p.getFileName().toString()))
                    .containsExactly("a-signed-trusted");
        }
        assertThat(filesOutsidePlugins()).isEqualTo(outsideBefore);
        assertThat(root.resolve("x")).doesNotExist();
        assertThat(describe(sharedX)).isEqualTo(sharedXBefore);
        assertThat(absoluteTarget).doesNotExist();
    }

    @Test
    void theCliAndTheLogOfTheDistributionNameEachReason() throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(DISTRIBUTION.resolve("bin/quiver").toString());
        cmd.addAll(
                List.of(
                        "plugins",
                        "--plugins-dir",
                        plugins.toString(),
                        "-D",
                        trustKey(),
                        "-D",
                        PluginTrust.SIGNERS_KEY + "=" + signers));
        Path out = root.resolve("work/plugins.out");
        Path err = root.resolve("work/plugins.err");
        ProcessBuilder pb =
                new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String stdout = Files.readString(out);
        String log = Files.readString(err);
        assertThat(p.exitValue()).as(stdout + log).isEqualTo(1);
        assertThat(stdout).contains("STARTED  p5-signed-trusted");
        for (String code :
                List.of(
                        "PLUGIN_UNSIGNED",
                        "PLUGIN_SIGNER_UNKNOWN",
                        "PLUGIN_SIGNATURE_INVALID",
                        "PLUGIN_SHA_NOT_ALLOWED")) {
            assertThat(stdout).contains("REFUSED  [Quiver/" + code + "] Plugin 'p5-");
            assertThat(log).contains("[WARN] PluginRuntime - [Quiver/" + code + "] Plugin 'p5-");
        }
        assertThat(stdout).contains("REFUSED  [Quiver/PLUGIN_UNREADABLE]").contains("zip slip");
        assertThat(log).contains("[Quiver/PLUGIN_UNREADABLE]").contains("'../../x'");
    }

    @Test
    void trustingAnArchiveLetsItLoadAtTheNextStartAndInARunningRuntimeUntrustingRefusesItAgain()
            throws Exception {
        Path unsigned = plugins.resolve("b-unsigned.zip");
        // The trusted one provides the same prediction; without it, nothing but trust is in the
        // way.
        Files.delete(plugins.resolve("a-signed-trusted.zip"));
        try (PluginRuntime runtime = PluginRuntime.start(plugins, config)) {
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::id)
                    .doesNotContain("p5-unsigned");
            Map<Path, String> settled = new HashMap<>();
            try (Stream<Path> s = Files.list(plugins)) {
                for (Path f : s.filter(PluginArchives::isArchive).toList()) {
                    settled.put(f, ExpandedZips.sha256(f));
                }
            }
            // Nothing changed: the untrusted archive stays refused.
            assertThat(runtime.apply(settled, Set.of()).isEmpty()).isTrue();
            String trusted = cli(0, "plugins", "trust", "-D", trustKey(), unsigned.toString());
            assertThat(trusted).contains("trusted ").contains("p5-unsigned 1.0.0");
            // The trust list changed: a running runtime (the watcher's path) checks it again.
            PluginTransition t = runtime.apply(settled, Set.of());
            t.retire();
            assertThat(runtime.plugins()).extracting(LoadedPlugin::id).contains("p5-unsigned");
            assertThat(runtime.refusals())
                    .extracting(PluginRefusal::pluginId)
                    .doesNotContain("p5-unsigned");
        }
        assertThat(cli(0, "plugins", "list", "-D", trustKey())).contains("p5-unsigned");
        cli(0, "plugins", "untrust", "-D", trustKey(), "p5-unsigned");
        try (PluginRuntime runtime = PluginRuntime.start(plugins, config)) {
            assertThat(runtime.refusals())
                    .filteredOn(r -> r.pluginId().equals("p5-unsigned"))
                    .singleElement()
                    .satisfies(r -> assertThat(r.code()).isEqualTo("PLUGIN_UNSIGNED"));
        }
        // Trusting an archive whose entries would escape its folder is refused too.
        StringWriter err = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(new StringWriter()),
                        new PrintWriter(err),
                        "plugins",
                        "trust",
                        "-D",
                        trustKey(),
                        plugins.resolve("f-zip-slip.zip").toString());
        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).contains("'../../x'").contains("would be written outside");
    }

    private String trustKey() {
        return PluginTrust.TRUST_LIST_KEY + "=" + trustList;
    }

    /** Runs the CLI in this JVM and checks its exit code; returns its output. */
    static String cli(int expected, String... args) {
        var out = new StringWriter();
        var err = new StringWriter();
        int code = Cli.execute(new PrintWriter(out), new PrintWriter(err), args);
        assertThat(code).as(out + "\n" + err).isEqualTo(expected);
        return out.toString();
    }

    /** Every file and folder under the test's root but outside the plugins folder (and work/). */
    private Set<String> filesOutsidePlugins() throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> !p.startsWith(plugins))
                    .filter(p -> !p.startsWith(root.resolve("work")))
                    .map(Path::toString)
                    .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
        }
    }

    /** A key pair and self-signed certificate made by the JDK's keytool in a PKCS12 store. */
    static Path keytoolKeyPair(Path dir, String alias, String dname) throws Exception {
        Path store = dir.resolve(alias + ".p12");
        keytool(
                "-genkeypair",
                "-alias",
                alias,
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                dname,
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                PASSWORD,
                "-keypass",
                PASSWORD);
        return store;
    }

    static void keytool(String... args) throws Exception {
        var cmd = new ArrayList<String>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("keytool " + cmd + ": " + output).isZero();
    }

    /** Signs {@code in} into {@code out} with the JDK's JarSigner API (what jarsigner does). */
    static void sign(Path in, Path store, String alias, Path out) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream s = Files.newInputStream(store)) {
            ks.load(s, PASSWORD.toCharArray());
        }
        PrivateKey key = (PrivateKey) ks.getKey(alias, PASSWORD.toCharArray());
        CertPath path =
                CertificateFactory.getInstance("X.509")
                        .generateCertPath(List.of((X509Certificate) ks.getCertificate(alias)));
        JarSigner signer =
                new JarSigner.Builder(key, path)
                        .digestAlgorithm("SHA-256")
                        .signatureAlgorithm("SHA256withECDSA")
                        .build();
        try (ZipFile zip = new ZipFile(in.toFile());
                OutputStream os = Files.newOutputStream(out)) {
            signer.sign(zip, os);
        }
    }

    /** The template plugin with another id and version (so all six can sit in one folder). */
    static Path variant(Path target, String id, String version) throws IOException {
        try (var zip = new ZipFile(TEMPLATE.toFile());
                var zos = new ZipOutputStream(Files.newOutputStream(target))) {
            for (ZipEntry e : zip.stream().toList()) {
                zos.putNextEntry(new ZipEntry(e.getName()));
                try (InputStream in = zip.getInputStream(e)) {
                    if (e.getName().equals("classes/META-INF/MANIFEST.MF")) {
                        var mf = new Manifest(in);
                        mf.getMainAttributes().put(new Attributes.Name("Plugin-Id"), id);
                        mf.getMainAttributes().put(new Attributes.Name("Plugin-Version"), version);
                        mf.write(zos);
                    } else {
                        in.transferTo(zos);
                    }
                }
                zos.closeEntry();
            }
        }
        return target;
    }

    /** Whether a path exists and, if so, its kind, size and modification time. */
    private static String describe(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return "absent";
        }
        var a =
                Files.readAttributes(
                        p,
                        java.nio.file.attribute.BasicFileAttributes.class,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS);
        return (a.isDirectory() ? "dir " : "file ") + a.size() + " " + a.lastModifiedTime();
    }

    /** Adds entries (with any name, escaping ones included) to a zip, in place. */
    static void withEntries(Path zipFile, List<String> names) throws IOException {
        Path tmp = zipFile.resolveSibling(zipFile.getFileName() + ".tmp");
        try (var zip = new ZipFile(zipFile.toFile());
                var zos = new ZipOutputStream(Files.newOutputStream(tmp))) {
            for (ZipEntry e : zip.stream().toList()) {
                zos.putNextEntry(new ZipEntry(e.getName()));
                try (InputStream in = zip.getInputStream(e)) {
                    in.transferTo(zos);
                }
                zos.closeEntry();
            }
            for (String name : names) {
                zos.putNextEntry(new ZipEntry(name));
                zos.write("written outside the plugins folder\n".getBytes(StandardCharsets.UTF_8));
                zos.closeEntry();
            }
        }
        Files.move(tmp, zipFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Copies a zip, flipping one byte of one entry's content (a class changed after signing). */
    static void flipOneByteOf(Path in, String entry, Path out) throws IOException {
        boolean flipped = false;
        try (var zip = new ZipFile(in.toFile());
                var zos = new ZipOutputStream(Files.newOutputStream(out))) {
            for (ZipEntry e : zip.stream().toList()) {
                zos.putNextEntry(new ZipEntry(e.getName()));
                byte[] bytes;
                try (InputStream s = zip.getInputStream(e)) {
                    bytes = s.readAllBytes();
                }
                if (e.getName().equals(entry)) {
                    bytes[bytes.length / 2] ^= 0x01;
                    flipped = true;
                }
                zos.write(bytes);
                zos.closeEntry();
            }
        }
        assertThat(flipped).as(entry + " in " + in).isTrue();
    }

    static String get(int port, String path) throws Exception {
        HttpResponse<String> r =
                HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(
                                                URI.create("http://127.0.0.1:" + port + path))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }
}

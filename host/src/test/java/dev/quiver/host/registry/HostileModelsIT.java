package dev.quiver.host.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.live.ModelBinding;
import dev.quiver.host.live.SmokeCheck;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.web.SourceFitting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md P15 and P16 (and bad input 7) on the hostile-model corpus ({@link
 * HostileModelCorpus}): every damaged or hostile version goes through the checks a new version gets
 * before it serves, in the service's order: the local model directory's verification ({@link
 * ModelResolver#resolve}: allow-list, containment, checksum, the format's structure before any
 * native load), then the child-JVM smoke check ({@link SmokeCheck#inChildJvm}) with the built
 * distribution's real plugins. Each must be refused with a reason; none may pass; this JVM (the
 * host) must still be alive and the original versions must still pass the same checks afterwards
 * (what keeps serving while a bad version is refused).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileModelsIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final Path PLUGIN_SOURCES = Path.of("..", "plugins").toAbsolutePath().normalize();
    static final ObjectMapper JSON = new ObjectMapper();

    /** A real model with what serves it: plugin, capability, sidecar, recorded smoke set. */
    record Served(
            HostileModelCorpus.Original original,
            String pluginId,
            String capability,
            ObjectNode sidecar,
            String sidecarName,
            Path smoke) {}

    /** What happened to one mutant. */
    record Outcome(HostileModelCorpus.Mutant mutant, String format, String stage, String reason) {}

    Path work;
    Path plugins;
    PluginRuntime runtime;
    final Map<ModelFormat, Served> served = new LinkedHashMap<>();

    @BeforeAll
    void originals(@TempDir Path dir) throws IOException {
        work = dir;
        plugins = Files.createDirectories(work.resolve("plugins"));
        for (String id : List.of("prediction-lstm", "prediction-catboost", "ensemble-gbm")) {
            try (var zips =
                    Files.newDirectoryStream(DISTRIBUTION.resolve("plugins"), id + "-*.zip")) {
                for (Path zip : zips) {
                    Files.copy(zip, plugins.resolve(zip.getFileName()));
                }
            }
        }
        runtime = PluginRuntime.start(plugins, Map.of("quiver.plugin.isolation", "same-thread"));
        Path lstm =
                PLUGIN_SOURCES.resolve(
                        "prediction-lstm/src/main/resources/dev/quiver/plugins/lstm/model");
        Path catboost =
                PLUGIN_SOURCES.resolve(
                        "prediction-catboost/src/main/resources/dev/quiver/plugins/catboost/model");
        add(ModelFormat.ONNX, "prediction-lstm", "lstm", lstm.resolve("lstm.json"), "btc-usd-4h");
        add(
                ModelFormat.CATBOOST_CBM,
                "prediction-catboost",
                "catboost",
                catboost.resolve("catboost.json"),
                "btc-usd-4h");
        // XGBoost and LightGBM: trained in Java by ensemble-gbm (fixed seeds) on sp500-daily, as
        // `quiver models train` does; smoke cases from nasdaq-daily.
        for (var e :
                Map.of("xgboost", ModelFormat.XGBOOST_JSON, "lightgbm", ModelFormat.LIGHTGBM_TXT)
                        .entrySet()) {
            PredictionCapability p =
                    runtime.predictions().stream()
                            .filter(c -> c.descriptor().name().equals(e.getKey()))
                            .findFirst()
                            .orElseThrow();
            String outcome =
                    SourceFitting.fit(List.of(p), BundledData.SP500_DAILY.load(), 1000)
                            .get(e.getKey());
            assertThat(outcome).as(e.getKey()).doesNotStartWith("fit failed");
            List<Path> files = p.exportModel(Files.createDirectories(work.resolve(e.getKey())));
            add(e.getValue(), "ensemble-gbm", e.getKey(), files.get(1), "nasdaq-daily");
        }
    }

    private void add(
            ModelFormat format, String pluginId, String capability, Path sidecar, String dataset)
            throws IOException {
        ObjectNode s = (ObjectNode) JSON.readTree(sidecar.toFile());
        Path model = sidecar.resolveSibling(s.path("model_file").asText());
        Path smoke = work.resolve("smoke-" + capability + ".json");
        try (PredictionCapability p =
                runtime.newPrediction(
                                capability,
                                Map.of(ModelBinding.modelKey(capability), sidecar.toString()))
                        .prediction()) {
            SmokeCheck.record(p, pluginId, BundledData.byId(dataset).orElseThrow(), 6, 1e-5)
                    .write(smoke);
        }
        served.put(
                format,
                new Served(
                        new HostileModelCorpus.Original(
                                format, model.getFileName().toString(), Files.readAllBytes(model)),
                        pluginId,
                        capability,
                        s,
                        sidecar.getFileName().toString(),
                        smoke));
    }

    @AfterAll
    void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    /**
     * Writes a version folder the way the registry client leaves one in the cache: the model file,
     * its sidecar naming the mutant's sha256, the smoke file, and {@code quiver-version.json} with
     * the tags (checksum and size of the mutant's own bytes: the parsers see the damage).
     */
    void writeVersion(Path root, String name, int version, Served s, HostileModelCorpus.Mutant m)
            throws IOException {
        writeVersion(root, name, version, s, m, Map.of());
    }

    /**
     * {@link #writeVersion(Path, String, int, Served, HostileModelCorpus.Mutant)} with extra tags:
     * the signature tags a registrar wrote for the original (an attacker who rewrites the checksum
     * tags cannot sign the mutant).
     */
    void writeVersion(
            Path root,
            String name,
            int version,
            Served s,
            HostileModelCorpus.Mutant m,
            Map<String, String> signature)
            throws IOException {
        Path dir = Files.createDirectories(root.resolve(name).resolve(Integer.toString(version)));
        Path model = dir.resolve(m.fileName());
        Files.write(model, m.bytes());
        String sha = ModelStore.sha256(model);
        ObjectNode sidecar = s.sidecar().deepCopy();
        sidecar.put("model_file", m.fileName());
        sidecar.put("model_sha256", sha);
        JSON.writeValue(dir.resolve(s.sidecarName()).toFile(), sidecar);
        Files.copy(s.smoke(), dir.resolve(SmokeSet.FILE_NAME));
        for (var e : m.extraFiles().entrySet()) {
            Files.write(dir.resolve(e.getKey()), e.getValue());
        }
        Map<String, String> tags = new TreeMap<>();
        tags.put(ModelStore.TAG_MODEL_FILE, m.fileName());
        ModelFormat.byFileName(m.fileName())
                .ifPresent(f -> tags.put(ModelStore.TAG_FORMAT, f.tag()));
        tags.put(ModelStore.TAG_SHA256, sha);
        tags.put(ModelStore.TAG_SIZE, Long.toString(m.bytes().length));
        tags.put(ModelStore.TAG_SIDECAR, s.sidecarName());
        tags.put(ModelStore.TAG_SMOKE, SmokeSet.FILE_NAME);
        tags.put(ModelStore.TAG_SMOKE_SHA256, ModelStore.sha256(dir.resolve(SmokeSet.FILE_NAME)));
        tags.put(ModelStore.TAG_PLUGIN, s.pluginId());
        tags.put(ModelStore.TAG_TASK, ModelFormat.TASK_CLASSIFIER);
        tags.putAll(signature);
        tags.putAll(m.extraTags());
        ObjectNode meta = JSON.createObjectNode();
        meta.put("name", name).put("version", Integer.toString(version)).put("run_id", "hostile");
        meta.put("source", "models:/" + name + "/" + version);
        tags.forEach(meta.putObject("tags")::put);
        JSON.writeValue(dir.resolve(ModelStore.VERSION_FILE).toFile(), meta);
    }

    /**
     * Runs a list of versions of one format through verification then the child JVM (one batch of
     * the versions that pass verification), returning each one's outcome.
     */
    List<Outcome> vet(ModelFormat format, List<HostileModelCorpus.Mutant> mutants, String store)
            throws IOException {
        return vet(format, mutants, store, ModelTrust.NONE, Map.of());
    }

    /**
     * {@link #vet(ModelFormat, List, String)} by a store that accepts the signatures {@code trust}
     * does, every version carrying the tags {@code signature}.
     */
    List<Outcome> vet(
            ModelFormat format,
            List<HostileModelCorpus.Mutant> mutants,
            String store,
            ModelTrust trust,
            Map<String, String> signature)
            throws IOException {
        Served s = served.get(format);
        Path root = Files.createDirectories(work.resolve(store + "-" + format.tag()));
        ModelResolver resolver = new ModelResolver(Optional.empty(), new ModelStore(root, trust));
        String name = "hostile-" + format.tag();
        List<Outcome> outcomes = new ArrayList<>();
        List<Integer> toChild = new ArrayList<>();
        List<SmokeCheck.Candidate> candidates = new ArrayList<>();
        for (int i = 0; i < mutants.size(); i++) {
            HostileModelCorpus.Mutant m = mutants.get(i);
            writeVersion(root, name, i + 1, s, m, signature);
            try {
                ResolvedModel r = resolver.resolve("models:/" + name + "/" + (i + 1));
                toChild.add(i);
                candidates.add(
                        new SmokeCheck.Candidate(
                                r.sidecar().orElseThrow(), r.dir().resolve(SmokeSet.FILE_NAME)));
                outcomes.add(null);
            } catch (ModelRefusedException e) {
                outcomes.add(new Outcome(m, format.tag(), "verify", e.getMessage()));
            }
        }
        List<SmokeCheck.Result> results =
                candidates.isEmpty()
                        ? List.of()
                        : SmokeCheck.inChildJvm(
                                pluginPath(s),
                                s.pluginId(),
                                s.capability(),
                                candidates,
                                Duration.ofSeconds(60));
        for (int k = 0; k < toChild.size(); k++) {
            int i = toChild.get(k);
            SmokeCheck.Result r = results.get(k);
            outcomes.set(
                    i,
                    new Outcome(
                            mutants.get(i),
                            format.tag(),
                            r.passed() ? "PROMOTED" : "child",
                            r.passed() ? "passed: " + r.cases() + " cases" : r.reason()));
        }
        return outcomes;
    }

    Path pluginPath(Served s) {
        return runtime.plugins().stream()
                .filter(p -> p.id().equals(s.pluginId()))
                .findFirst()
                .orElseThrow()
                .path();
    }

    @Test
    void everyMutantOfEveryFormatIsRefusedWithAReasonAndTheOriginalsStillPass() throws Exception {
        List<HostileModelCorpus.Original> all =
                served.values().stream().map(Served::original).toList();
        List<Outcome> outcomes = new ArrayList<>();
        Map<String, Integer> perFormat = new TreeMap<>();
        long t0 = System.nanoTime();
        for (Served s : served.values()) {
            List<HostileModelCorpus.Original> others =
                    all.stream().filter(o -> o != s.original()).toList();
            List<HostileModelCorpus.Mutant> mutants = HostileModelCorpus.of(s.original(), others);
            perFormat.put(s.original().format().tag(), mutants.size());
            outcomes.addAll(vet(s.original().format(), mutants, "corpus"));
        }
        report(outcomes, t0);
        var softly = new org.assertj.core.api.SoftAssertions();
        List<String> silent = new ArrayList<>();
        for (Outcome o : outcomes) {
            if (o.stage().equals("PROMOTED") && silentAllowed(o)) {
                // Known gap, counted and printed: see silentAllowed.
                silent.add(o.mutant().id());
                continue;
            }
            softly.assertThat(o.stage())
                    .as(o.mutant().id() + ": " + o.reason())
                    .isNotEqualTo("PROMOTED");
            softly.assertThat(o.reason()).as(o.mutant().id()).isNotBlank();
            if (o.mutant().beforeNativeLoad()) {
                softly.assertThat(o.stage())
                        .as(o.mutant().id() + " refused before any native load: " + o.reason())
                        .isEqualTo("verify");
            }
            softly.assertThat(o.reason())
                    .as(o.mutant().id() + " reason")
                    .contains(o.mutant().reasonHint());
        }
        for (var e : perFormat.entrySet()) {
            softly.assertThat(e.getValue()).as(e.getKey() + " mutants").isGreaterThanOrEqualTo(50);
        }
        System.out.printf(
                "hostile-model corpus: %d of %d mutants refused; %d CatBoost mutants are valid"
                        + " models, different from the original, that reproduce the golden rows"
                        + " (known gap): %s%n",
                outcomes.size() - silent.size(), outcomes.size(), silent.size(), silent);
        assertThat(outcomes).doesNotContainNull();
        softly.assertAll();

        // The child JVM still contains what verification would miss: the seeded word that sets
        // TreeSplits[65] to 2^31-16 (refused by the host's verification above; it used to abort
        // its child with SIGABRT) is sent straight to one child batch between two originals,
        // past verification. It costs that candidate only; the others get their own verdicts.
        Served cb = served.get(ModelFormat.CATBOOST_CBM);
        Outcome bomb =
                outcomes.stream()
                        .filter(o -> o.mutant().id().equals("catboost-cbm-size-inflation-02"))
                        .findFirst()
                        .orElseThrow();
        assertThat(bomb.stage()).as(bomb.reason()).isEqualTo("verify");
        assertThat(bomb.reason()).contains("TreeSplits[65] is 2147483632");
        HostileModelCorpus.Mutant good =
                HostileModelCorpus.Mutant.of(
                        "original", "original", cb.original().fileName(), cb.original().bytes());
        Path past = Files.createDirectories(work.resolve("past-verification"));
        List<SmokeCheck.Candidate> batch = new ArrayList<>();
        List<HostileModelCorpus.Mutant> order = List.of(good, bomb.mutant(), good);
        for (int v = 1; v <= order.size(); v++) {
            writeVersion(past, "crash", v, cb, order.get(v - 1));
            Path dir = past.resolve("crash").resolve(Integer.toString(v));
            batch.add(
                    new SmokeCheck.Candidate(
                            dir.resolve(cb.sidecarName()), dir.resolve(SmokeSet.FILE_NAME)));
        }
        long crashT0 = System.nanoTime();
        List<SmokeCheck.Result> crash =
                SmokeCheck.inChildJvm(
                        pluginPath(cb),
                        cb.pluginId(),
                        cb.capability(),
                        batch,
                        Duration.ofSeconds(60));
        System.out.printf(
                "past verification: the TreeSplits bomb between two originals, one child batch in"
                        + " %.1f s: %s%n",
                (System.nanoTime() - crashT0) / 1e9,
                crash.stream().map(r -> r.passed() ? "passed" : r.reason()).toList());
        assertThat(crash.get(0).passed()).as(crash.get(0).reason()).isTrue();
        assertThat(crash.get(1).passed()).isFalse();
        assertThat(crash.get(1).reason()).contains("child JVM exited with");
        assertThat(crash.get(2).passed()).as(crash.get(2).reason()).isTrue();

        // The host survived every one of them, and the originals (what keeps serving) still pass
        // the same two checks: verification, then a child JVM.
        for (Served s : served.values()) {
            HostileModelCorpus.Mutant original =
                    HostileModelCorpus.Mutant.of(
                            "original", "original", s.original().fileName(), s.original().bytes());
            List<Outcome> ok = vet(s.original().format(), List.of(original), "after");
            assertThat(ok.get(0).stage())
                    .as(s.capability() + " original: " + ok.get(0).reason())
                    .isEqualTo("PROMOTED");
        }
    }

    /**
     * The full pipeline with signed versions (what a host that trusts a model key runs): the
     * registrar signed each original; every mutant carries the original's signature tags but its
     * own checksum and size tags, as an attacker who can write the registry's tags but holds no
     * trusted key would leave it. All 217 are refused in verification, before any parser reads the
     * model file and before any child JVM; none is promoted; the signed originals pass. A mutant
     * whose signature is stripped is refused as unsigned, one signed with a key the host does not
     * trust as from an unknown signer.
     */
    @Test
    void signedVersionsRefuseEveryMutantBeforeAnyParserAndTheSignedOriginalsPass()
            throws Exception {
        Path keys = work.resolve("model-keys");
        ModelSigner signer =
                ModelSigner.generate(keys.resolve("signing-key.pem"), keys.resolve("trusted"));
        ModelSigner stranger =
                ModelSigner.generate(keys.resolve("stranger-key.pem"), keys.resolve("stranger"));
        ModelTrust trust =
                new ModelTrust(
                        ModelTrust.readKeys(keys.resolve("trusted")),
                        true,
                        keys.resolve("trusted").toString());
        List<HostileModelCorpus.Original> all =
                served.values().stream().map(Served::original).toList();
        List<Outcome> outcomes = new ArrayList<>();
        long t0 = System.nanoTime();
        Map<String, Integer> byCheck = new TreeMap<>();
        for (Served s : served.values()) {
            HostileModelCorpus.Mutant original =
                    HostileModelCorpus.Mutant.of(
                            "original", "original", s.original().fileName(), s.original().bytes());
            Path scratch = Files.createDirectories(work.resolve("signing-" + s.capability()));
            writeVersion(scratch, "m", 1, s, original);
            Map<String, String> signature = signAs(scratch.resolve("m/1"), s, signer, false);

            // The signed original passes the host's verification with signatures required.
            Path good = Files.createDirectories(work.resolve("signed-good-" + s.capability()));
            writeVersion(good, "m", 1, s, original, signature);
            ResolvedModel ok =
                    new ModelResolver(Optional.empty(), new ModelStore(good, trust))
                            .resolve("models:/m/1");
            assertThat(ok.tags()).containsEntry(ModelTrust.TAG_SIGNING_KEY, signer.keyId());

            List<HostileModelCorpus.Original> others =
                    all.stream().filter(o -> o != s.original()).toList();
            List<HostileModelCorpus.Mutant> mutants = HostileModelCorpus.of(s.original(), others);
            for (Outcome o : vet(s.original().format(), mutants, "signed", trust, signature)) {
                outcomes.add(o);
                byCheck.merge(checkOf(o.reason()), 1, Integer::sum);
            }
        }
        long promoted = outcomes.stream().filter(o -> o.stage().equals("PROMOTED")).count();
        System.out.printf(
                "signed pipeline: %d of %d mutants refused, %d promoted, in %.1f s; by check %s%n",
                outcomes.stream().filter(o -> !o.stage().equals("PROMOTED")).count(),
                outcomes.size(),
                promoted,
                (System.nanoTime() - t0) / 1e9,
                byCheck);
        assertThat(outcomes).hasSizeGreaterThanOrEqualTo(200);
        var softly = new org.assertj.core.api.SoftAssertions();
        for (Outcome o : outcomes) {
            softly.assertThat(o.stage())
                    .as(o.mutant().id() + ": " + o.reason())
                    .isEqualTo("verify");
            // Refused by the signature, or by a check that reads names and tags only (allow-list,
            // containment, a sidecar that is not there): never by a parser.
            softly.assertThat(checkOf(o.reason()))
                    .as(o.mutant().id() + ": " + o.reason())
                    .isIn("signature", "names and tags");
        }
        for (String id : VALID_DIFFERENT_MODELS.keySet()) {
            Outcome o =
                    outcomes.stream()
                            .filter(x -> x.mutant().id().equals(id))
                            .findFirst()
                            .orElseThrow();
            softly.assertThat(o.reason()).as(id).contains("MODEL_SIGNATURE_INVALID");
        }
        softly.assertAll();

        // The attacker's other moves on the six mutants no parser can tell apart: strip the
        // signature (unsigned), or sign with a key of their own (unknown signer).
        Served cb = served.get(ModelFormat.CATBOOST_CBM);
        Path root = Files.createDirectories(work.resolve("signed-attacks"));
        ModelResolver resolver = new ModelResolver(Optional.empty(), new ModelStore(root, trust));
        int v = 0;
        for (Outcome o : outcomes) {
            if (!VALID_DIFFERENT_MODELS.containsKey(o.mutant().id())) {
                continue;
            }
            writeVersion(root, "attack", ++v, cb, o.mutant());
            String unsigned = "models:/attack/" + v;
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> resolver.resolve(unsigned))
                    .as(o.mutant().id() + " unsigned")
                    .hasMessageContaining("MODEL_UNSIGNED");
            writeVersion(root, "attack", ++v, cb, o.mutant());
            signAs(root.resolve("attack").resolve(Integer.toString(v)), cb, stranger, true);
            String foreign = "models:/attack/" + v;
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> resolver.resolve(foreign))
                    .as(o.mutant().id() + " signed by a stranger")
                    .hasMessageContaining("MODEL_SIGNER_UNKNOWN");
        }
        assertThat(v).isEqualTo(2 * VALID_DIFFERENT_MODELS.size());
    }

    /** Which check refused a version: its signature, or one that reads names and tags only. */
    private static String checkOf(String reason) {
        if (reason.contains("MODEL_SIGNATURE_INVALID")) {
            return "signature";
        }
        if (reason.contains("is not an accepted format")
                || reason.contains("is not a plain file name")
                || reason.contains("is a folder or link")
                || reason.contains("is missing")) {
            return "names and tags";
        }
        return "other: " + reason;
    }

    /**
     * Signs a written version as a registrar would ({@link ModelSigner#sign}: its tags and sidecar
     * file), returning the signature tags; with {@code write}, also puts them into its {@code
     * quiver-version.json}.
     */
    private Map<String, String> signAs(Path dir, Served s, ModelSigner by, boolean write)
            throws IOException {
        ObjectNode meta = (ObjectNode) JSON.readTree(dir.resolve(ModelStore.VERSION_FILE).toFile());
        Map<String, String> tags = new TreeMap<>();
        meta.path("tags").properties().forEach(e -> tags.put(e.getKey(), e.getValue().asText()));
        Map<String, String> signature = by.sign(tags, Optional.of(dir.resolve(s.sidecarName())));
        if (write) {
            signature.forEach(((ObjectNode) meta.path("tags"))::put);
            JSON.writeValue(dir.resolve(ModelStore.VERSION_FILE).toFile(), meta);
        }
        return signature;
    }

    @Test
    void theSixCraftedArtifactsOfP16AreRefusedBeforeAnyNativeLoadAndNoChildRuns() throws Exception {
        Served onnx = served.get(ModelFormat.ONNX);
        List<HostileModelCorpus.Mutant> crafted = HostileModelCorpus.p16(onnx.original());
        assertThat(crafted).hasSize(6);
        Path root = Files.createDirectories(work.resolve("store-p16"));
        // The file `../x.pkl` an MLmodel points to, beside the store: never read.
        Files.write(root.resolve("x.pkl"), crafted.get(0).bytes());
        ModelResolver resolver = new ModelResolver(Optional.empty(), root);
        for (int i = 0; i < crafted.size(); i++) {
            HostileModelCorpus.Mutant m = crafted.get(i);
            writeVersion(root, "p16", i + 1, onnx, m);
            String uri = "models:/p16/" + (i + 1);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> resolver.resolve(uri))
                    .as(m.id())
                    .isInstanceOf(ModelRefusedException.class)
                    .hasMessageContaining(m.reasonHint())
                    .hasMessageContaining(uri);
        }
    }

    /**
     * The known gap, mutant by mutant: CatBoost mutants that {@link CbmStructure} cannot tell from
     * a trained model (every offset, count and consistency rule holds) and whose change the six
     * golden rows do not see. Each is a valid model, different from the registered one; only the
     * registry's checksum of the file tells them apart (the corpus sets it to the mutant's own
     * bytes). Any other promoted mutant fails the test.
     */
    static final Map<String, String> VALID_DIFFERENT_MODELS =
            Map.of(
                    "catboost-cbm-bit-flip-00",
                    "LeafValues[44] 0.014866564125892106 -> 0.014866564111340191 (bit 23)",
                    "catboost-cbm-bit-flip-13",
                    "LeafValues[68] -0.0051338409612360055 -> -0.005133840961207584 (bit 15)",
                    "catboost-cbm-bit-flip-14",
                    "LeafValues[98] -0.03856907253763928 -> -0.03759251003763928 (bit 47; a leaf"
                            + " with 4 learn objects no golden row reaches)",
                    "catboost-cbm-size-inflation-03",
                    "LeafValues[262] 0.009676758460777942 -> 0.009676758199930163 (low 4 bytes)",
                    "catboost-cbm-bit-flip-15",
                    "float feature 0's Borders[15] 0.0046825884 -> 0.0046978472, still between its"
                            + " neighbours",
                    "catboost-cbm-bit-flip-08",
                    "LeafWeights[303] 276.0 -> 276.00000047683716 (bit 23; leaf weights are not"
                            + " used by predictions; non-whole weights are legitimate for weighted"
                            + " training, where the per-tree totals agree within 1e-9 only)");

    private static boolean silentAllowed(Outcome o) {
        return o.format().equals(ModelFormat.CATBOOST_CBM.tag())
                && VALID_DIFFERENT_MODELS.containsKey(o.mutant().id());
    }

    private static void report(List<Outcome> outcomes, long t0) {
        Map<String, Map<String, Integer>> byStage = new TreeMap<>();
        for (Outcome o : outcomes) {
            byStage.computeIfAbsent(o.format(), k -> new TreeMap<>())
                    .merge(o.stage(), 1, Integer::sum);
        }
        System.out.printf(
                "hostile-model corpus: %d mutants in %.1f s; by format and stage %s%n",
                outcomes.size(), (System.nanoTime() - t0) / 1e9, byStage);
        for (Outcome o : outcomes) {
            String r = o.reason().replace('\n', ' ');
            System.out.printf(
                    "  %-40s %-8s %s%n",
                    o.mutant().id(), o.stage(), r.length() > 220 ? r.substring(0, 220) : r);
        }
    }
}

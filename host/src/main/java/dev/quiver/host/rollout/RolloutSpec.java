package dev.quiver.host.rollout;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.host.registry.ModelUri;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What a rollout is: one capability, its champion and challenger, the starting mode, the routing
 * and the promotion / rollback rules. Read from JSON with every field checked; a bad spec is
 * refused with a {@link RolloutSpecException} naming the field.
 *
 * <pre>{@code
 * {
 *   "id": "analogs-k50",
 *   "capability": {"kind": "prediction", "name": "analogs", "plugin": "prediction-analogs"},
 *   "champion":   {"config": {}},
 *   "challenger": {"config": {"k": "50"}},
 *   "mode": "shadow",
 *   "routing": {"key": "symbol", "canary_percent": 10},
 *   "rules": {"metric": "log_loss", "min_samples": 500, "test": "auto", "alpha": 0.05,
 *             "cost_bps": 15, "automatic": true}
 * }
 * }</pre>
 *
 * <p>A strategy rollout pairs the served strategy bundle (champion) with another bundle, a pinned
 * registry version or a folder; {@code capability} is {@code {"kind": "strategy"}} or left out,
 * {@code champion} is {@code {}} or left out:
 *
 * <pre>{@code
 * {"id": "strategy-7", "challenger": {"strategy": "models:/quiver-strategy/7"}, "mode": "shadow",
 *  "routing": {"key": "symbol", "canary_percent": 25}, "rules": {"metric": "log_loss", "min_samples": 200}}
 * }</pre>
 *
 * @param id rollout id: {@code [a-z0-9][a-z0-9._-]*}, at most 64 characters; part of the canary
 *     hash, so a new id reshuffles the keys
 * @param kind capability kind
 * @param capability the capability's name, e.g. {@code lstm} or {@code kelly}; {@code strategy} for
 *     a strategy rollout
 * @param plugin id of the plugin that serves the capability, e.g. {@code prediction-lstm}; {@code
 *     strategy} for a strategy rollout
 * @param champion the version serving now
 * @param challenger the candidate; must differ from the champion
 * @param mode the stage the rollout starts in: shadow, canary or full
 * @param routingKey what a canary share is a share of
 * @param canaryPercent share of routing keys the challenger acts for in canary, percent in {@code
 *     (0, 100]}, in steps of 0.01 (the hash has 10,000 buckets)
 * @param rules when the controller promotes or rolls back
 */
public record RolloutSpec(
        String id,
        Kind kind,
        String capability,
        String plugin,
        Variant champion,
        Variant challenger,
        Stage mode,
        RoutingKey routingKey,
        double canaryPercent,
        Rules rules) {

    static final ObjectMapper JSON = new ObjectMapper();

    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    /** The capability kinds a rollout can pair versions of. */
    public enum Kind {
        /** A prediction source: scored on its probability of an up move. */
        PREDICTION,
        /** A sizing policy: scored on its position's cost-adjusted P&amp;L. */
        SIZING,
        /**
         * A whole strategy bundle (sources, ensemble, policies, settings) against the served one:
         * scored on its fused probability and its acting policy's position. Its champion is the
         * bundle the service serves; its challenger names a bundle ({@link Variant#strategy()}).
         */
        STRATEGY;

        /**
         * The JSON name.
         *
         * @return {@code prediction} or {@code sizing}
         */
        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What the canary share is a share of. */
    public enum RoutingKey {
        /** The request's symbol (in a backtest, the series). */
        SYMBOL,
        /** The request's account (requests without one are routed by symbol). */
        ACCOUNT;

        /**
         * The JSON name.
         *
         * @return {@code symbol} or {@code account}
         */
        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One side of a rollout: the plugin as installed, another build of it, a registered model
     * version served by it, and/or plugin settings.
     *
     * @param model {@code models:/NAME/VERSION} (a pinned version, not an alias: an alias could
     *     move under a running rollout); the plugin gets {@code model=<the version's sidecar>}
     * @param pluginZip another build of the plugin (a PF4J zip), run in its own plugin manager
     *     beside the other variant; empty for the plugin as installed
     * @param config plugin settings for this variant (keys without the plugin id), over the host's
     * @param strategy a strategy bundle: {@code models:/NAME/VERSION} (pinned, not an alias) or a
     *     bundle folder; only in a {@link Kind#STRATEGY} rollout's challenger
     */
    public record Variant(
            Optional<String> model,
            Optional<Path> pluginZip,
            Map<String, String> config,
            Optional<String> strategy) {

        /** Copies the settings (sorted). */
        public Variant {
            config = Map.copyOf(new TreeMap<>(config));
        }

        /**
         * A plugin variant (no strategy bundle).
         *
         * @param model a registered model version, or empty
         * @param pluginZip another build of the plugin, or empty
         * @param config plugin settings
         */
        public Variant(
                Optional<String> model, Optional<Path> pluginZip, Map<String, String> config) {
            this(model, pluginZip, config, Optional.empty());
        }

        /**
         * The registered strategy version, when the variant is one ({@code models:/NAME/V}).
         *
         * @return name and version, empty for a folder or no bundle
         */
        public Optional<ModelUri> strategyUri() {
            return strategy.filter(x -> x.startsWith("models:/")).map(ModelUri::parse);
        }

        /**
         * The registered model, when the variant is a model version.
         *
         * @return name and version
         */
        public Optional<ModelUri> modelUri() {
            return model.map(ModelUri::parse);
        }

        /**
         * A one-line description for status, reports and provenance.
         *
         * @param plugin the plugin id
         * @return e.g. {@code prediction-lstm serving models:/quiver-lstm/4}
         */
        public String describe(String plugin) {
            if (strategy.isPresent()) {
                return "strategy bundle " + strategy.get();
            }
            if (plugin.equals(STRATEGY_CAPABILITY)) {
                return "the served strategy bundle";
            }
            StringBuilder s = new StringBuilder(plugin);
            s.append(pluginZip.map(z -> " from " + z.getFileName()).orElse(" as installed"));
            model.ifPresent(m -> s.append(" serving ").append(m));
            if (!config.isEmpty()) {
                s.append(" with ").append(new TreeMap<>(config));
            }
            return s.toString();
        }

        ObjectNode toJson() {
            ObjectNode n = JSON.createObjectNode();
            if (strategy.isPresent()) {
                return n.put("strategy", strategy.get());
            }
            model.ifPresent(m -> n.put("model", m));
            pluginZip.ifPresent(z -> n.put("plugin_zip", z.toString()));
            ObjectNode c = n.putObject("config");
            new TreeMap<>(config).forEach(c::put);
            return n;
        }
    }

    /**
     * When the controller acts. Nothing happens before {@code minSamples} scored outcomes per
     * variant in the current stage; then the test runs at looks {@code k = 1, 2, ...} (every {@code
     * minSamples} further samples) at level {@code alpha / 2^k}, so the chance of any false verdict
     * over all looks is at most {@code alpha} per direction (union bound). Details and sources in
     * {@link Significance}.
     *
     * @param metric the loss compared
     * @param minSamples scored outcomes per variant (paired: bars both forecast) in a stage before
     *     the first look, {@code >= 30}
     * @param test the test
     * @param alpha family-wise significance level per direction, in {@code (0, 0.5)}
     * @param costBps cost per side for the P&amp;L metric, basis points of notional, {@code >= 0}
     * @param automatic whether the rules act; false leaves every transition to an operator (the
     *     figures and tests are still computed and shown)
     * @param maxLooks the stage's horizon, in looks (the planned number of analyses K of a group
     *     sequential design): when look {@code K} (at {@code K * minSamples} samples) gives no
     *     verdict either way, the rules roll back (the challenger did not show itself better; the
     *     champion stays), so a rollout of two versions too alike to tell apart ends instead of
     *     running on; {@code 0} for no horizon (the default; absent in JSON), else {@code >= 1}
     */
    public record Rules(
            Metric metric,
            int minSamples,
            TestKind test,
            double alpha,
            double costBps,
            boolean automatic,
            int maxLooks) {}

    /** The capability name (and plugin) of a {@link Kind#STRATEGY} rollout: the whole strategy. */
    public static final String STRATEGY_CAPABILITY = "strategy";

    /** Minimum of {@code rules.min_samples}: below ~30 the t approximation is not trusted. */
    public static final int MIN_SAMPLES_FLOOR = 30;

    /**
     * The challenger's share in canary, in basis points of the 10,000 hash buckets.
     *
     * @return {@code round(canaryPercent * 100)}, in [1, 10000]
     */
    public int canaryBuckets() {
        return (int) Math.round(canaryPercent * 100);
    }

    /**
     * The variant for a role.
     *
     * @param role champion or challenger
     * @return its spec
     */
    public Variant variant(Role role) {
        return role == Role.CHAMPION ? champion : challenger;
    }

    /**
     * Reads a spec file.
     *
     * @param file JSON file
     * @return the spec; a relative {@code plugin_zip} is resolved against the file's folder
     * @throws RolloutSpecException if the file is not valid JSON or a field is bad
     * @throws UncheckedIOException if the file cannot be read
     */
    public static RolloutSpec read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new RolloutSpecException(file.toString(), "(file)", "does not exist");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read rollout spec " + file, e);
        }
        Path base = file.toAbsolutePath().getParent();
        return parse(text, file.toString(), base);
    }

    /**
     * Parses a spec.
     *
     * @param json the JSON text
     * @param where where it came from, for messages (a file name, {@code request body})
     * @param base folder a relative {@code plugin_zip} is resolved against, or null to keep it
     * @return the spec
     * @throws RolloutSpecException naming the field when the JSON is malformed, a field is missing,
     *     unknown, of the wrong type or out of range
     */
    public static RolloutSpec parse(String json, String where, Path base) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new RolloutSpecException(
                    where, "(document)", "is not valid JSON: " + e.getOriginalMessage());
        }
        return parse(root, where, base);
    }

    /**
     * Parses a spec from a JSON tree.
     *
     * @param root the JSON object
     * @param where where it came from, for messages
     * @param base folder a relative {@code plugin_zip} is resolved against, or null to keep it
     * @return the spec
     * @throws RolloutSpecException naming the field
     */
    public static RolloutSpec parse(JsonNode root, String where, Path base) {
        Reader r = new Reader(where);
        r.object(
                root,
                "",
                Set.of("id", "capability", "champion", "challenger", "mode", "routing", "rules"));
        String id =
                r.text(
                        root,
                        "id",
                        ID,
                        "a lower-case id of letters, digits, '.', '_', '-' (at most 64)");
        JsonNode challengerNode = root.get("challenger");
        boolean strategyRollout =
                (challengerNode != null && challengerNode.has("strategy"))
                        || "strategy".equals(root.path("capability").path("kind").asText());
        Kind kind;
        String capability;
        String plugin;
        Variant champion;
        Variant challenger;
        if (strategyRollout) {
            kind = Kind.STRATEGY;
            capability = STRATEGY_CAPABILITY;
            plugin = STRATEGY_CAPABILITY;
            if (root.has("capability")) {
                JsonNode cap = root.get("capability");
                r.object(cap, "capability", Set.of("kind"));
                String k = r.text(cap, "capability.kind", null, null);
                if (!k.equals("strategy")) {
                    throw r.bad(
                            "capability.kind",
                            "is '"
                                    + k
                                    + "' but challenger.strategy names a strategy bundle: a bundle"
                                    + " rollout has capability {\"kind\": \"strategy\"} or none");
                }
            }
            if (root.has("champion")
                    && !(root.get("champion").isObject() && root.get("champion").isEmpty())) {
                throw r.bad(
                        "champion",
                        "must be {} or left out: a strategy rollout's champion is the bundle the"
                                + " service serves (value: "
                                + root.get("champion")
                                + ")");
            }
            champion = new Variant(Optional.empty(), Optional.empty(), Map.of());
            JsonNode n = r.required(root, "challenger");
            r.object(n, "challenger", Set.of("strategy"));
            String ref = r.text(n, "challenger.strategy", null, null);
            if (ref.startsWith("models:/")) {
                ModelUri uri;
                try {
                    uri = ModelUri.parse(ref);
                } catch (IllegalArgumentException e) {
                    throw r.bad(
                            "challenger.strategy",
                            "must be models:/NAME/VERSION or a bundle folder (value: '"
                                    + ref
                                    + "')");
                }
                if (uri.version().isEmpty()) {
                    throw r.bad(
                            "challenger.strategy",
                            "names an alias ('"
                                    + ref
                                    + "'); a rollout pins a version, models:/"
                                    + uri.name()
                                    + "/VERSION, because an alias can move under it");
                }
            } else {
                Path p = path(r, "challenger.strategy", ref);
                if (!p.isAbsolute() && base != null) {
                    ref = base.resolve(p).normalize().toString();
                }
            }
            challenger =
                    new Variant(Optional.empty(), Optional.empty(), Map.of(), Optional.of(ref));
        } else {
            JsonNode cap = r.required(root, "capability");
            r.object(cap, "capability", Set.of("kind", "name", "plugin"));
            String kindText = r.text(cap, "capability.kind", null, null);
            kind =
                    switch (kindText) {
                        case "prediction" -> Kind.PREDICTION;
                        case "sizing" -> Kind.SIZING;
                        default ->
                                throw r.bad(
                                        "capability.kind",
                                        "must be prediction, sizing or strategy (value: '"
                                                + kindText
                                                + "')");
                    };
            capability = r.text(cap, "capability.name", NAME, "a capability name, e.g. lstm");
            plugin = r.text(cap, "capability.plugin", NAME, "a plugin id, e.g. prediction-lstm");
            champion = variant(r, root, "champion", base);
            challenger = variant(r, root, "challenger", base);
            if (champion.equals(challenger)) {
                throw r.bad(
                        "challenger",
                        "is the same as the champion (same model, plugin_zip and config)");
            }
        }
        Stage mode = Stage.SHADOW;
        if (root.has("mode")) {
            String m = r.text(root, "mode", null, null);
            mode =
                    Stage.byId(m)
                            .filter(s -> !s.terminal())
                            .orElseThrow(
                                    () ->
                                            r.bad(
                                                    "mode",
                                                    "must be shadow, canary or full (value: '"
                                                            + m
                                                            + "')"));
        }
        RoutingKey routingKey = RoutingKey.SYMBOL;
        double canaryPercent = 10;
        if (root.has("routing")) {
            JsonNode routing = root.get("routing");
            r.object(routing, "routing", Set.of("key", "canary_percent"));
            if (routing.has("key")) {
                String k = r.text(routing, "routing.key", null, null);
                routingKey =
                        switch (k) {
                            case "symbol" -> RoutingKey.SYMBOL;
                            case "account" -> RoutingKey.ACCOUNT;
                            default ->
                                    throw r.bad(
                                            "routing.key",
                                            "must be symbol or account (value: '" + k + "')");
                        };
            }
            if (routing.has("canary_percent")) {
                canaryPercent = r.number(routing, "routing.canary_percent");
                if (!(canaryPercent > 0 && canaryPercent <= 100)) {
                    throw r.bad(
                            "routing.canary_percent",
                            "must be in (0, 100] (value: " + canaryPercent + ")");
                }
                double buckets = canaryPercent * 100;
                if (Math.abs(buckets - Math.rint(buckets)) > 1e-6) {
                    throw r.bad(
                            "routing.canary_percent",
                            "must be a multiple of 0.01 (the hash has 10,000 buckets; value: "
                                    + canaryPercent
                                    + ")");
                }
            }
        }
        JsonNode rulesNode = r.required(root, "rules");
        r.object(
                rulesNode,
                "rules",
                Set.of(
                        "metric",
                        "min_samples",
                        "max_looks",
                        "test",
                        "alpha",
                        "cost_bps",
                        "automatic"));
        String metricText = r.text(rulesNode, "rules.metric", null, null);
        Metric metric =
                Metric.byId(metricText)
                        .orElseThrow(
                                () ->
                                        r.bad(
                                                "rules.metric",
                                                "must be log_loss, brier, hit_rate or pnl (value: '"
                                                        + metricText
                                                        + "')"));
        if (kind == Kind.SIZING && metric.needsProbability()) {
            throw r.bad(
                    "rules.metric",
                    "is "
                            + metric.id()
                            + ", which scores a probability; a sizing capability has only a position: use pnl");
        }
        JsonNode ms = r.required(rulesNode, "rules.min_samples");
        if (!ms.canConvertToInt() || !ms.isIntegralNumber() || ms.asInt() < MIN_SAMPLES_FLOOR) {
            throw r.bad(
                    "rules.min_samples",
                    "must be an integer >= " + MIN_SAMPLES_FLOOR + " (value: " + ms + ")");
        }
        int maxLooks = 0;
        if (rulesNode.has("max_looks")) {
            JsonNode mx = rulesNode.get("max_looks");
            if (!mx.canConvertToInt() || !mx.isIntegralNumber() || mx.asInt() < 1) {
                throw r.bad("rules.max_looks", "must be an integer >= 1 (value: " + mx + ")");
            }
            maxLooks = mx.asInt();
        }
        TestKind test = TestKind.AUTO;
        if (rulesNode.has("test")) {
            String t = r.text(rulesNode, "rules.test", null, null);
            test =
                    TestKind.byId(t)
                            .orElseThrow(
                                    () ->
                                            r.bad(
                                                    "rules.test",
                                                    "must be auto, paired or welch (value: '"
                                                            + t
                                                            + "')"));
        }
        double alpha = 0.05;
        if (rulesNode.has("alpha")) {
            alpha = r.number(rulesNode, "rules.alpha");
            if (!(alpha > 0 && alpha < 0.5)) {
                throw r.bad("rules.alpha", "must be in (0, 0.5) (value: " + alpha + ")");
            }
        }
        double costBps = 15;
        if (rulesNode.has("cost_bps")) {
            costBps = r.number(rulesNode, "rules.cost_bps");
            if (!(costBps >= 0) || Double.isInfinite(costBps)) {
                throw r.bad("rules.cost_bps", "must be finite and >= 0 (value: " + costBps + ")");
            }
        }
        boolean automatic = true;
        if (rulesNode.has("automatic")) {
            JsonNode a = rulesNode.get("automatic");
            if (!a.isBoolean()) {
                throw r.bad("rules.automatic", "must be true or false (value: " + a + ")");
            }
            automatic = a.asBoolean();
        }
        return new RolloutSpec(
                id,
                kind,
                capability,
                plugin,
                champion,
                challenger,
                mode,
                routingKey,
                canaryPercent,
                new Rules(metric, ms.asInt(), test, alpha, costBps, automatic, maxLooks));
    }

    /** A path the request names; one this file system cannot hold (a NUL, say) is refused. */
    private static Path path(Reader r, String field, String text) {
        try {
            return Path.of(text);
        } catch (java.nio.file.InvalidPathException e) {
            throw r.bad(field, "is not a valid path (" + e.getReason() + ")");
        }
    }

    private static Variant variant(Reader r, JsonNode root, String field, Path base) {
        JsonNode n = r.required(root, field);
        r.object(n, field, Set.of("model", "plugin_zip", "config"));
        Optional<String> model = Optional.empty();
        if (n.has("model")) {
            String m = r.text(n, field + ".model", null, null);
            ModelUri uri;
            try {
                uri = ModelUri.parse(m);
            } catch (IllegalArgumentException e) {
                throw r.bad(field + ".model", "must be models:/NAME/VERSION (value: '" + m + "')");
            }
            if (uri.version().isEmpty()) {
                throw r.bad(
                        field + ".model",
                        "names an alias ('"
                                + m
                                + "'); a rollout pins a version, models:/"
                                + uri.name()
                                + "/VERSION, because an alias can move under it");
            }
            model = Optional.of(m);
        }
        Optional<Path> zip = Optional.empty();
        if (n.has("plugin_zip")) {
            String z = r.text(n, field + ".plugin_zip", null, null);
            Path p = path(r, field + ".plugin_zip", z);
            if (!p.isAbsolute() && base != null) {
                p = base.resolve(p).normalize();
            }
            if (p.getFileName() == null || !p.getFileName().toString().endsWith(".zip")) {
                throw r.bad(field + ".plugin_zip", "must name a plugin .zip (value: '" + z + "')");
            }
            zip = Optional.of(p);
        }
        Map<String, String> config = new LinkedHashMap<>();
        if (n.has("config")) {
            JsonNode c = n.get("config");
            if (!c.isObject()) {
                throw r.bad(
                        field + ".config",
                        "must be an object of setting -> string (value: " + c + ")");
            }
            for (Map.Entry<String, JsonNode> e : c.properties()) {
                JsonNode v = e.getValue();
                if (!(v.isTextual() || v.isNumber() || v.isBoolean())) {
                    throw r.bad(
                            field + ".config." + e.getKey(),
                            "must be a string, number or boolean (value: " + v + ")");
                }
                if (e.getKey().isBlank() || e.getKey().contains("=")) {
                    throw r.bad(
                            field + ".config",
                            "has a blank key or one containing '=': '" + e.getKey() + "'");
                }
                if (e.getKey().equals("model") && model.isPresent()) {
                    throw r.bad(field + ".config.model", "conflicts with " + field + ".model");
                }
                config.put(e.getKey(), v.asText());
            }
        }
        return new Variant(model, zip, config);
    }

    /**
     * The spec as JSON, in the shape {@link #parse} reads.
     *
     * @return a new object
     */
    public ObjectNode toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", id);
        if (kind == Kind.STRATEGY) {
            n.putObject("capability").put("kind", kind.id());
        } else {
            n.putObject("capability")
                    .put("kind", kind.id())
                    .put("name", capability)
                    .put("plugin", plugin);
        }
        if (kind == Kind.STRATEGY) {
            n.putObject("champion");
        } else {
            n.set("champion", champion.toJson());
        }
        n.set("challenger", challenger.toJson());
        n.put("mode", mode.id());
        n.putObject("routing").put("key", routingKey.id()).put("canary_percent", canaryPercent);
        ObjectNode r =
                n.putObject("rules")
                        .put("metric", rules.metric().id())
                        .put("min_samples", rules.minSamples())
                        .put("test", rules.test().id())
                        .put("alpha", rules.alpha())
                        .put("cost_bps", rules.costBps())
                        .put("automatic", rules.automatic());
        if (rules.maxLooks() > 0) {
            r.put("max_looks", rules.maxLooks());
        }
        return n;
    }

    /** Strict field access that names the JSON path in every refusal. */
    private static final class Reader {
        private final String where;

        Reader(String where) {
            this.where = where;
        }

        RolloutSpecException bad(String field, String problem) {
            return new RolloutSpecException(where, field, problem);
        }

        void object(JsonNode n, String field, Set<String> allowed) {
            String name = field.isEmpty() ? "(document)" : field;
            if (n == null || !n.isObject()) {
                throw bad(name, "must be a JSON object (value: " + n + ")");
            }
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!allowed.contains(f)) {
                    throw bad(
                            field.isEmpty() ? f : field + "." + f,
                            "is not a known field; known here: "
                                    + new java.util.TreeSet<>(allowed));
                }
            }
        }

        JsonNode required(JsonNode parent, String field) {
            String leaf = field.substring(field.lastIndexOf('.') + 1);
            JsonNode n = parent.get(leaf);
            if (n == null || n.isNull()) {
                throw bad(field, "is missing");
            }
            return n;
        }

        String text(JsonNode parent, String field, Pattern form, String expected) {
            JsonNode n = required(parent, field);
            if (!n.isTextual() || n.asText().isBlank()) {
                throw bad(field, "must be a non-blank string (value: " + n + ")");
            }
            String s = n.asText();
            if (form != null && !form.matcher(s).matches()) {
                throw bad(field, "must be " + expected + " (value: '" + s + "')");
            }
            return s;
        }

        double number(JsonNode parent, String field) {
            JsonNode n = required(parent, field);
            if (!n.isNumber()) {
                throw bad(field, "must be a number (value: " + n + ")");
            }
            return n.asDouble();
        }
    }
}

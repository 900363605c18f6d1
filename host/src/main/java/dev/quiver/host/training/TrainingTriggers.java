package dev.quiver.host.training;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.engine.feature.FeaturePipeline;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Declared triggers that ask for training jobs (issue 12, items 1 and 3): on <b>drift</b> (a
 * statistic of {@link DriftMonitor} above a threshold on some session) and on <b>bundle age</b>
 * (the served bundle's data older than a duration).
 *
 * <pre>{@code
 * {"name": "vol-drift", "on": "drift", "statistic": "psi", "threshold": 0.25, "bars": 300,
 *  "features": ["log_return_1"], "cooldown": "PT24H",
 *  "job": {"kind": "fit-strategy", "params": {"dataset": "btc-usd-4h", "register": "quiver-strategy"}}}
 * {"name": "stale", "on": "bundle-age", "older_than": "P20D", "job": {...}}
 * }</pre>
 *
 * <ul>
 *   <li>{@code statistic}: {@code psi} or {@code ks}; {@code threshold}: the value above which
 *       (strictly) a feature has drifted, {@code > 0} ({@code ks} at most 1); {@code bars}: the
 *       live bars per session (N), {@code >= 30}; {@code features}: the features looked at, default
 *       {@link #DEFAULT_FEATURES} (see there why; the features in price units, {@code macd_12_26},
 *       {@code macd_signal_9}, {@code macd_hist_12_26_9}, {@code atr_14}, drift with the price
 *       level alone).
 *   <li>{@code older_than}: ISO-8601 duration; the bundle's age is the time since its {@code
 *       serves_from} (the bar after its data), the same origin as its expiry.
 *   <li>{@code job}: the job asked for, checked as a job of that kind is; {@code cooldown} (default
 *       {@code PT24H}): after a job this trigger asked for, none again for the same target before
 *       the cooldown has passed.
 * </ul>
 *
 * <p><b>At most one at a time per target.</b> The target of a job is its kind and what it registers
 * (or fits on when it registers nothing): a trigger that fires while a job of the same target is
 * queued or running asks for nothing, and says so in its last outcome. Every job asked for is
 * stored with trigger {@code drift:NAME} or {@code bundle-age:NAME}, actor {@code trigger} and the
 * reason with the figures (the training jobs are the audit).
 *
 * <p>The triggers are checked every {@code quiver.training.trigger-check-ms} (default 60,000) and
 * by {@link #check()}. They are kept in {@code triggers.json} of the training folder (written
 * whole, atomically), so a restart keeps them. Checks are serialised in this process; two services
 * sharing one database each check their own sessions.
 */
public final class TrainingTriggers implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingTriggers.class);

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The features without price units (the others drift with the price level alone). */
    public static final List<String> SCALE_FREE =
            List.of(
                    "log_return_1",
                    "rsi_14",
                    "macd_hist_pct",
                    "bb_percent_b_20_2",
                    "bb_width_20_2",
                    "atr_pct_14",
                    "volume_ratio_20");

    /**
     * The features a drift trigger looks at when it names none: the one-bar log return and the
     * volume ratio. The smoothed features ({@code atr_pct_14}, {@code bb_width_20_2}, {@code
     * rsi_14}) are strongly autocorrelated, so their index over a few hundred bars swings well past
     * 0.25 within one market (on BTC, 0.51 for {@code atr_pct_14} of the embedded bundle's own last
     * 300 training bars): declare them by name, with a threshold of their own.
     */
    public static final List<String> DEFAULT_FEATURES = List.of("log_return_1", "volume_ratio_20");

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Duration DEFAULT_COOLDOWN = Duration.ofHours(24);

    /** What a trigger watches. */
    public enum On {
        /** Feature drift of the sessions. */
        DRIFT,
        /** The served bundle's age. */
        BUNDLE_AGE;

        /**
         * The JSON name.
         *
         * @return {@code drift} or {@code bundle-age}
         */
        public String id() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * A declared trigger, checked.
     *
     * @param name its name, {@code [a-z0-9-]}, 1 to 63 characters
     * @param on what it watches
     * @param statistic {@code psi} or {@code ks} (drift)
     * @param threshold the value above which a feature has drifted (drift)
     * @param bars live bars per session, N (drift)
     * @param features the features looked at (drift)
     * @param olderThan the age that fires it (bundle age)
     * @param cooldown no second job for the target from this trigger within it
     * @param kind the job kind
     * @param params the job's parameters as the kind checked them
     * @param json the declaration as given (with defaults filled in)
     */
    public record Trigger(
            String name,
            On on,
            String statistic,
            double threshold,
            int bars,
            List<String> features,
            Duration olderThan,
            Duration cooldown,
            String kind,
            ObjectNode params,
            ObjectNode json) {

        /** The job's target: its kind and the model it registers, else the data it fits on. */
        String target() {
            return target(kind, params);
        }

        static String target(String kind, JsonNode params) {
            for (String f : List.of("register", "dataset", "data")) {
                if (params.hasNonNull(f)) {
                    return kind + ":" + f + "=" + params.get(f).asText();
                }
            }
            return kind;
        }
    }

    private final TrainingService training;
    private final DriftMonitor drift;
    private final Supplier<Optional<DriftMonitor.TrainingWindow>> served;
    private final Clock clock;
    private final Duration checkEvery;
    private final Map<String, Map<String, Object>> outcomes = new ConcurrentHashMap<>();
    private volatile List<Trigger> triggers;
    private volatile ObjectNode declared;

    /**
     * The triggers of a service, as stored in its database (none if none were ever declared);
     * checked every {@code checkEvery} by the scheduler's pool, and by {@link #check()}.
     *
     * @param training the scheduler jobs are asked of (and the triggers kept by)
     * @param drift the sessions' drift
     * @param served the served bundle's window (its id, data and {@code serves_from}), empty when
     *     none is served
     * @param clock the clock bundle ages and cooldowns are measured with
     * @param checkEvery how often the triggers are checked; zero for never (only {@link #check()})
     * @return the triggers, attached to {@code training} (closed with it)
     * @throws IllegalStateException if the stored triggers no longer pass the checks (naming the
     *     field)
     */
    public static TrainingTriggers start(
            TrainingService training,
            DriftMonitor drift,
            Supplier<Optional<DriftMonitor.TrainingWindow>> served,
            Clock clock,
            Duration checkEvery) {
        TrainingTriggers t = new TrainingTriggers(training, drift, served, clock, checkEvery);
        training.attach(t);
        return t;
    }

    private TrainingTriggers(
            TrainingService training,
            DriftMonitor drift,
            Supplier<Optional<DriftMonitor.TrainingWindow>> served,
            Clock clock,
            Duration checkEvery) {
        this.training = training;
        this.drift = drift;
        this.served = served;
        this.clock = clock;
        // Never: a check a century away (the scheduler needs an interval).
        this.checkEvery = checkEvery.isZero() ? Duration.ofDays(36_500) : checkEvery;
        this.triggers = List.of();
        this.declared = JSON.createObjectNode().set("triggers", JSON.createArrayNode());
        Optional<TriggerSchedule> stored = training.storedTriggers();
        if (stored.isPresent()) {
            try {
                JsonNode doc = JSON.readTree(stored.get().json());
                this.triggers = parse(doc.get("triggers"));
                this.declared = (ObjectNode) doc;
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(
                        "the stored training triggers are not JSON: " + stored.get().json(), e);
            } catch (QuiverInputException e) {
                throw new IllegalStateException(
                        "the stored training triggers are refused: " + e.getMessage(), e);
            }
            if (!stored.get().every().equals(this.checkEvery)) {
                training.storeTriggers(new TriggerSchedule(stored.get().json(), this.checkEvery));
            }
        }
    }

    /**
     * The drift monitor the triggers read.
     *
     * @return the monitor
     */
    public DriftMonitor drift() {
        return drift;
    }

    /**
     * Replaces the triggers: each is checked (its job as a job of its kind) before anything
     * changes; then they are stored in the database with who set them and why.
     *
     * @param specs the triggers, a JSON array
     * @param actor who
     * @param reason why
     * @return the triggers now, as {@link #describe()}
     * @throws QuiverInputException {@code BAD_TRAINING_TRIGGER} naming the field, e.g. {@code
     *     triggers[0].threshold}
     */
    public synchronized Map<String, Object> configure(JsonNode specs, String actor, String reason) {
        if (dev.quiver.host.session.Text.blank(actor)) {
            throw bad("actor", actor, "is required");
        }
        if (dev.quiver.host.session.Text.blank(reason)) {
            throw bad("reason", reason, "is required");
        }
        List<Trigger> parsed = parse(specs);
        ObjectNode doc = JSON.createObjectNode();
        ArrayNode arr = doc.putArray("triggers");
        parsed.forEach(t -> arr.add(t.json()));
        doc.put("set_by", actor);
        doc.put("reason", reason);
        doc.put("set_at", clock.instant().toString());
        training.storeTriggers(new TriggerSchedule(doc.toString(), checkEvery));
        this.triggers = parsed;
        this.declared = doc;
        outcomes.keySet().retainAll(parsed.stream().map(Trigger::name).toList());
        LOG.info(
                "training triggers set by {} ({}): {}",
                actor,
                reason,
                parsed.stream().map(t -> t.name() + " (" + t.on().id() + ")").toList());
        return describe();
    }

    /**
     * The triggers, who set them and why, and each one's last outcome.
     *
     * @return {@code triggers}, {@code set_by}, {@code reason}, {@code set_at}, {@code outcomes}
     */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        ObjectNode d = declared;
        m.put("triggers", JSON.convertValue(d.get("triggers"), List.class));
        for (String f : List.of("set_by", "reason", "set_at")) {
            if (d.hasNonNull(f)) {
                m.put(f, d.get(f).asText());
            }
        }
        Map<String, Object> last = new LinkedHashMap<>();
        for (Trigger t : triggers) {
            last.put(t.name(), outcomes.getOrDefault(t.name(), Map.of("outcome", "not checked")));
        }
        m.put("outcomes", last);
        return m;
    }

    /** A check from the scheduler's pool: a failure is logged, and tried again next time. */
    void checkQuietly() {
        try {
            check();
        } catch (RuntimeException e) {
            // A check that fails (a store hiccup) is tried again at the next tick, and says why.
            LOG.error("training triggers: the check failed: {}", e.getMessage(), e);
        }
    }

    /**
     * Checks every trigger now: a trigger that fires asks for its job unless a job of the same
     * target is queued or running, or its cooldown has not passed.
     *
     * @return per trigger, what happened: {@code outcome} ({@code quiet}, {@code queued}, {@code
     *     skipped}, {@code unavailable}), {@code detail}, {@code job} when one was asked for
     */
    public synchronized Map<String, Map<String, Object>> check() {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (Trigger t : triggers) {
            Map<String, Object> o = checkOne(t);
            o.put("checked_at", clock.instant().toString());
            outcomes.put(t.name(), o);
            out.put(t.name(), o);
        }
        return out;
    }

    private Map<String, Object> checkOne(Trigger t) {
        Optional<String> why = t.on() == On.DRIFT ? driftReason(t) : ageReason(t);
        Map<String, Object> o = new LinkedHashMap<>();
        if (why.isEmpty()) {
            o.put("outcome", "quiet");
            o.put("detail", lastDetail);
            return o;
        }
        if (why.get().startsWith("unavailable: ")) {
            o.put("outcome", "unavailable");
            o.put("detail", why.get().substring("unavailable: ".length()));
            return o;
        }
        String target = t.target();
        Instant now = clock.instant();
        for (TrainingJob j : training.jobs(500)) {
            boolean same =
                    j.kind().equals(t.kind())
                            && Trigger.target(j.kind(), tree(j.paramsJson())).equals(target);
            if (!same) {
                continue;
            }
            if (!j.state().finished()) {
                o.put("outcome", "skipped");
                o.put(
                        "detail",
                        "fired ("
                                + why.get()
                                + ") but job "
                                + j.id()
                                + " for "
                                + target
                                + " is "
                                + j.state().label()
                                + ": at most one at a time");
                return o;
            }
            boolean mine = j.trigger().equals(triggerName(t));
            if (mine && Instant.ofEpochMilli(j.createdMs()).plus(t.cooldown()).isAfter(now)) {
                o.put("outcome", "skipped");
                o.put(
                        "detail",
                        "fired ("
                                + why.get()
                                + ") but this trigger asked for job "
                                + j.id()
                                + " at "
                                + Instant.ofEpochMilli(j.createdMs())
                                + ", within its cooldown "
                                + t.cooldown());
                return o;
            }
        }
        TrainingJob job =
                training.submit(t.kind(), t.params(), triggerName(t), "trigger", why.get());
        LOG.info("training trigger {} fired: job {} queued: {}", t.name(), job.id(), why.get());
        o.put("outcome", "queued");
        o.put("detail", why.get());
        o.put("job", job.id());
        return o;
    }

    private static String triggerName(Trigger t) {
        return t.on().id() + ":" + t.name();
    }

    /** The last quiet check's figures, for the outcome (set under this object's monitor). */
    private String lastDetail;

    private Optional<String> driftReason(Trigger t) {
        List<DriftMonitor.SessionDrift> all = drift.measure(t.bars());
        List<String> fired = new ArrayList<>();
        List<String> quiet = new ArrayList<>();
        List<String> unavailable = new ArrayList<>();
        for (DriftMonitor.SessionDrift d : all) {
            if (d.unavailable() != null) {
                unavailable.add(d.symbol() + ": " + d.unavailable());
                continue;
            }
            Optional<Map.Entry<String, Double>> worst = d.worst(t.statistic(), t.features());
            if (worst.isEmpty()) {
                unavailable.add(d.symbol() + ": none of the features has warm values");
                continue;
            }
            String figure =
                    String.format(
                            Locale.ROOT,
                            "session %s: %s of %s = %.4f over its last %d bars (%s..%s)",
                            d.symbol(),
                            t.statistic(),
                            worst.get().getKey(),
                            worst.get().getValue(),
                            t.bars(),
                            d.liveFrom(),
                            d.liveTo());
            if (worst.get().getValue() > t.threshold()) {
                fired.add(figure);
            } else {
                quiet.add(figure);
            }
        }
        if (fired.isEmpty()) {
            if (quiet.isEmpty() && !unavailable.isEmpty()) {
                return Optional.of("unavailable: " + String.join("; ", unavailable));
            }
            lastDetail =
                    quiet.isEmpty()
                            ? "no open session"
                            : String.format(
                                    Locale.ROOT,
                                    "below %s %s: %s",
                                    t.statistic(),
                                    t.threshold(),
                                    String.join("; ", quiet));
            return Optional.empty();
        }
        DriftMonitor.TrainingWindow w = all.get(0).window();
        return Optional.of(
                String.format(
                        Locale.ROOT,
                        "drift above %s %s: %s; training window %s..%s of %s (bundle %s)%s",
                        t.statistic(),
                        t.threshold(),
                        String.join("; ", fired),
                        w.firstBar(),
                        w.lastBar(),
                        w.dataset(),
                        w.bundle(),
                        quiet.isEmpty() ? "" : "; below it: " + String.join("; ", quiet)));
    }

    private Optional<String> ageReason(Trigger t) {
        Optional<DriftMonitor.TrainingWindow> w = served.get();
        if (w.isEmpty()) {
            return Optional.of("unavailable: the service serves no bundle");
        }
        Instant from = w.get().servesFrom();
        Duration age = Duration.between(from, clock.instant());
        if (age.compareTo(t.olderThan()) <= 0) {
            lastDetail =
                    "bundle "
                            + w.get().bundle()
                            + " is "
                            + age
                            + " old, not older than "
                            + t.olderThan();
            return Optional.empty();
        }
        return Optional.of(
                "bundle "
                        + w.get().bundle()
                        + " is "
                        + age
                        + " old (serves from "
                        + from
                        + "), older than "
                        + t.olderThan());
    }

    // ---- declarations --------------------------------------------------------------------------

    private List<Trigger> parse(JsonNode specs) {
        if (specs == null || !specs.isArray()) {
            throw bad("triggers", specs, "is not an array of triggers");
        }
        List<Trigger> out = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < specs.size(); i++) {
            Trigger t = parseOne(specs.get(i), "triggers[" + i + "]");
            if (!names.add(t.name())) {
                throw bad(
                        "triggers[" + i + "].name", t.name(), "is the name of an earlier trigger");
            }
            out.add(t);
        }
        return out;
    }

    private Trigger parseOne(JsonNode s, String at) {
        if (s == null || !s.isObject()) {
            throw bad(at, s, "is not a trigger object");
        }
        List<String> fields =
                List.of(
                        "name",
                        "on",
                        "statistic",
                        "threshold",
                        "bars",
                        "features",
                        "older_than",
                        "cooldown",
                        "job");
        for (var it = s.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!fields.contains(f)) {
                throw bad(at + "." + f, s.get(f), "is not a field of a trigger " + fields);
            }
        }
        String name = s.path("name").asText("");
        if (!s.path("name").isTextual() || !NAME.matcher(name).matches()) {
            throw bad(
                    at + ".name", s.get("name"), "is not a name of [a-z0-9-], 1 to 63 characters");
        }
        On on;
        switch (s.path("on").asText("")) {
            case "drift" -> on = On.DRIFT;
            case "bundle-age" -> on = On.BUNDLE_AGE;
            default -> throw bad(at + ".on", s.get("on"), "is not one of [drift, bundle-age]");
        }
        ObjectNode json = ((ObjectNode) s).deepCopy();
        String statistic = null;
        double threshold = Double.NaN;
        int bars = 0;
        List<String> features = List.of();
        Duration olderThan = null;
        if (on == On.DRIFT) {
            for (String f : List.of("older_than")) {
                if (s.has(f)) {
                    throw bad(at + "." + f, s.get(f), "is a field of a bundle-age trigger");
                }
            }
            statistic = s.path("statistic").asText("");
            if (!List.of("psi", "ks").contains(statistic)) {
                throw bad(at + ".statistic", s.get("statistic"), "is not one of [psi, ks]");
            }
            JsonNode th = s.get("threshold");
            if (th == null || !th.isNumber() || !(th.asDouble() > 0)) {
                throw bad(at + ".threshold", th, "must be a number > 0");
            }
            threshold = th.asDouble();
            if (statistic.equals("ks") && threshold > 1) {
                throw bad(at + ".threshold", th, "must be at most 1 for ks (D is in [0, 1])");
            }
            JsonNode b = s.get("bars");
            if (b == null || !b.isIntegralNumber() || !b.canConvertToInt() || b.asInt() < 30) {
                throw bad(at + ".bars", b, "must be an integer >= 30 (live bars per session)");
            }
            bars = b.asInt();
            if (s.has("features")) {
                JsonNode fs = s.get("features");
                if (!fs.isArray() || fs.isEmpty()) {
                    throw bad(at + ".features", fs, "is not a non-empty array of feature names");
                }
                List<String> list = new ArrayList<>();
                for (JsonNode f : fs) {
                    if (!f.isTextual() || !FeaturePipeline.SCHEMA.names().contains(f.asText())) {
                        throw bad(
                                at + ".features",
                                f,
                                "is not a feature of "
                                        + FeaturePipeline.SCHEMA.name()
                                        + " "
                                        + FeaturePipeline.SCHEMA.names());
                    }
                    list.add(f.asText());
                }
                features = List.copyOf(list);
            } else {
                features = DEFAULT_FEATURES;
                ArrayNode a = json.putArray("features");
                DEFAULT_FEATURES.forEach(a::add);
            }
        } else {
            for (String f : List.of("statistic", "threshold", "bars", "features")) {
                if (s.has(f)) {
                    throw bad(at + "." + f, s.get(f), "is a field of a drift trigger");
                }
            }
            olderThan = duration(s, "older_than", at, null);
        }
        Duration cooldown = duration(s, "cooldown", at, DEFAULT_COOLDOWN);
        json.put("cooldown", cooldown.toString());
        JsonNode job = s.get("job");
        if (job == null || !job.isObject()) {
            throw bad(at + ".job", job, "is not a job object {\"kind\", \"params\"}");
        }
        for (var it = job.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!List.of("kind", "params").contains(f)) {
                throw bad(at + ".job." + f, job.get(f), "is not a field of a job [kind, params]");
            }
        }
        String kind = job.path("kind").asText("");
        JobKind k =
                training.kind(kind)
                        .orElseThrow(
                                () ->
                                        bad(
                                                at + ".job.kind",
                                                job.get("kind"),
                                                "is not one of " + training.kinds()));
        JsonNode params = job.get("params");
        if (params != null && !params.isNull() && !params.isObject()) {
            throw bad(at + ".job.params", params, "is not a JSON object");
        }
        ObjectNode checked;
        try {
            checked =
                    k.validate(
                            params == null || params.isNull()
                                    ? JSON.createObjectNode()
                                    : ((ObjectNode) params).deepCopy());
        } catch (QuiverInputException e) {
            throw bad(at + ".job.params." + e.field(), e.value(), "is refused: " + e.getMessage());
        }
        return new Trigger(
                name, on, statistic, threshold, bars, features, olderThan, cooldown, kind, checked,
                json);
    }

    private static Duration duration(JsonNode s, String field, String at, Duration dflt) {
        JsonNode v = s.get(field);
        if (v == null || v.isNull()) {
            if (dflt == null) {
                throw bad(at + "." + field, null, "is required (an ISO-8601 duration, e.g. P20D)");
            }
            return dflt;
        }
        Duration d;
        try {
            d = Duration.parse(v.asText());
        } catch (DateTimeParseException e) {
            throw bad(at + "." + field, v, "is not an ISO-8601 duration (e.g. P20D, PT6H)");
        }
        if (d.isNegative() || (d.isZero() && dflt == null)) {
            throw bad(at + "." + field, v, dflt == null ? "must be positive" : "must be >= 0");
        }
        return d;
    }

    private static ObjectNode tree(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a stored job's JSON does not parse: " + json, e);
        }
    }

    private static QuiverInputException bad(String field, Object value, String problem) {
        return new QuiverInputException(
                "BAD_TRAINING_TRIGGER", field, "training triggers", value, problem);
    }

    /** Nothing to stop: the periodic check is the scheduler's, stopped with it. */
    @Override
    public void close() {}
}

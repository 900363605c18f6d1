package dev.quiver.host.strategy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.market.Bar;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.session.SymbolSession;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Decisions a strategy bundle made on real bars, recorded when it was registered ({@code
 * smoke.json} beside the bundle, tag {@code quiver.smoke}), so that whoever downloads the version
 * later can replay the same bars and check that the download decides like the registered version:
 * same fused {@code p_up}, same per-source forecasts, same fraction from every policy.
 *
 * <p>The bars are stored in the file (not referenced), so the check needs nothing but the file, the
 * bundle and the plugins: a bundle fitted on a {@code --data} CSV is checked as well as one on a
 * bundled series. The replay is the live path: {@link BundleLoader} makes fresh instances, a {@link
 * SymbolSession} (streaming features, payoff ratio) is warmed up on the first {@code warm_up} bars
 * and then steps each case bar through the {@link SymbolEngine} (books start flat at the first case
 * bar; the bundle's expiry applies).
 *
 * <pre>
 * {"format": "quiver-strategy-smoke/1", "manifest_sha256": "...", "symbol": "btc-usd-4h",
 *  "interval": "PT4H", "window": "after-fit", "note": "...", "tolerance": 1e-6, "warm_up": 500,
 *  "bars": [{"t": "2016-...Z", "o": 1.0, "h": 1.0, "l": 1.0, "c": 1.0, "v": 0.0}, ...],
 *  "cases": [{"bar_time": "...", "p_up": 0.51 | null, "no_signal": null | "why",
 *             "sources": {"xgboost": 0.49, ...}, "failed": ["lstm", ...],
 *             "fractions": {"fixed": 0.5, "kelly": 0.0, ...}}, ...]}
 * </pre>
 *
 * <p>Which bars ({@link #casesFor}): the first bars the bundle serves (from {@code serves_from}, in
 * the same series, when the fit left bars after its data with {@code --until}), {@code window =
 * after-fit}; else the last bars it was fitted on, {@code window = fitted-bars} (registered sources
 * decline bars of their training span, and the record says so as failed sources: still a check of
 * every other component).
 *
 * @param manifestSha256 sha256 of the bundle's manifest the decisions were recorded with
 * @param symbol the series' name (what the sources see as the symbol)
 * @param interval the bar interval
 * @param window {@code after-fit} or {@code fitted-bars}
 * @param note how the bars were chosen, for people
 * @param tolerance largest accepted absolute difference of a probability or a fraction, in (0, 0.5]
 * @param warmUpBars leading bars fed to the features only
 * @param bars the bars: {@code warmUpBars} then one per case
 * @param cases the recorded decisions, at least one
 */
public record StrategySmoke(
        String manifestSha256,
        String symbol,
        Duration interval,
        String window,
        String note,
        double tolerance,
        int warmUpBars,
        List<Bar> bars,
        List<Case> cases) {

    /** The value of the {@code format} field. */
    public static final String FORMAT = "quiver-strategy-smoke/1";

    /** The file's name beside the bundle in a registered version. */
    public static final String FILE_NAME = "smoke.json";

    /** Default number of recorded decisions. */
    public static final int DEFAULT_CASES = 8;

    /** Default number of bars fed to the features before the first case. */
    public static final int DEFAULT_WARM_UP = 500;

    /** Default tolerance. */
    public static final double DEFAULT_TOLERANCE = 1e-6;

    /**
     * One recorded decision.
     *
     * @param barTime the decision bar's start
     * @param probabilityUp the fused {@code p_up}, or NaN when there was no fused signal
     * @param noSignal why there was no fused signal, or {@code null}
     * @param sources each source's {@code p_up} on the bar, by name
     * @param failed sources left out of the bar (declined or failed), by name
     * @param fractions each policy's final fraction of equity, by name
     */
    public record Case(
            Instant barTime,
            double probabilityUp,
            String noSignal,
            Map<String, Double> sources,
            List<String> failed,
            Map<String, Double> fractions) {

        /** Copies. */
        public Case {
            sources = Map.copyOf(sources);
            failed = List.copyOf(failed);
            fractions = Map.copyOf(fractions);
        }
    }

    /** Copies and validates. */
    public StrategySmoke {
        bars = List.copyOf(bars);
        cases = List.copyOf(cases);
        if (cases.isEmpty()) {
            throw new IllegalArgumentException("a smoke set needs at least one case");
        }
        if (warmUpBars < 0 || warmUpBars + cases.size() != bars.size()) {
            throw new IllegalArgumentException(
                    "warm_up "
                            + warmUpBars
                            + " + "
                            + cases.size()
                            + " cases must equal the "
                            + bars.size()
                            + " bars");
        }
        if (!(tolerance > 0 && tolerance <= 0.5)) {
            throw new IllegalArgumentException("tolerance must be in (0, 0.5], was " + tolerance);
        }
    }

    /**
     * Where the cases of a bundle fitted on {@code fitted} go in {@code series} (the fit's whole
     * input, of which {@code fitted} is a prefix): the first bars from {@code servesFrom}, else the
     * last fitted bars.
     *
     * @param series the whole series the fit read
     * @param fittedBars how many of its leading bars the bundle was fitted on
     * @param servesFrom the bundle's first servable bar
     * @param count cases wanted, {@code >= 1}
     * @return the index of the first case bar, the number of cases, the window and a note
     */
    public static Window casesFor(BarData series, int fittedBars, Instant servesFrom, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("--smoke-bars must be >= 1, was " + count);
        }
        long from = servesFrom.toEpochMilli();
        int first = fittedBars;
        while (first < series.size() && series.startMillis[first] < from) {
            first++;
        }
        if (first < series.size()) {
            int n = Math.min(count, series.size() - first);
            return new Window(
                    first,
                    n,
                    "after-fit",
                    "the first "
                            + n
                            + " bars the bundle serves (from "
                            + Instant.ofEpochMilli(series.startMillis[first])
                            + "), after the data it was fitted on");
        }
        int n = Math.min(count, fittedBars);
        return new Window(
                fittedBars - n,
                n,
                "fitted-bars",
                "the last "
                        + n
                        + " bars the bundle was fitted on (the series has no bar after them);"
                        + " registered sources decline bars of their training span, recorded as"
                        + " failed");
    }

    /**
     * Which bars of a series become cases.
     *
     * @param first index of the first case bar
     * @param count number of cases
     * @param window {@code after-fit} or {@code fitted-bars}
     * @param note for people
     */
    public record Window(int first, int count, String window, String note) {}

    /**
     * Records a bundle's decisions: replays {@code warmUp} bars before {@code w.first()} and the
     * case bars through fresh instances of the bundle's components.
     *
     * @param bundle the bundle
     * @param runtime the loaded plugins
     * @param series the bars
     * @param w the case bars
     * @param warmUp bars fed to the features before the first case (fewer if the series has fewer)
     * @param tolerance the tolerance the check will use
     * @return the recorded set
     * @throws QuiverInputException as {@link BundleLoader#load}
     */
    public static StrategySmoke record(
            StrategyBundle bundle,
            PluginRuntime runtime,
            BarData series,
            Window w,
            int warmUp,
            double tolerance) {
        int start = Math.max(0, w.first() - warmUp);
        List<Bar> bars = new ArrayList<>();
        for (int i = start; i < w.first() + w.count(); i++) {
            bars.add(series.bar(i));
        }
        int warm = w.first() - start;
        List<Case> cases;
        try (BundleLoader.Loaded loaded = BundleLoader.load(bundle, runtime)) {
            cases = replay(loaded, series.symbol(), series.period(), bars, warm);
        }
        return new StrategySmoke(
                manifestSha(bundle),
                series.symbol(),
                series.period(),
                w.window(),
                w.note(),
                tolerance,
                warm,
                bars,
                cases);
    }

    /**
     * The result of a check.
     *
     * @param passed whether every case was reproduced within the tolerance
     * @param cases cases compared
     * @param maxDifference largest absolute difference seen over all compared numbers
     * @param reason the first difference (case, bar, what, recorded, now), or empty if passed
     */
    public record Result(boolean passed, int cases, double maxDifference, String reason) {}

    /**
     * Replays the recorded bars through fresh instances of the bundle's components and compares
     * every decision with the recorded one.
     *
     * @param bundle the bundle (its manifest must be the one the cases were recorded with)
     * @param runtime the loaded plugins
     * @return passed, or the first difference
     * @throws QuiverInputException as {@link BundleLoader#load}
     */
    public Result check(StrategyBundle bundle, PluginRuntime runtime) {
        String sha = manifestSha(bundle);
        if (!sha.equals(manifestSha256)) {
            return new Result(
                    false,
                    0,
                    Double.NaN,
                    "the smoke cases were recorded with manifest sha256 "
                            + manifestSha256
                            + ", this bundle's is "
                            + sha);
        }
        List<Case> now;
        try (BundleLoader.Loaded loaded = BundleLoader.load(bundle, runtime)) {
            now = replay(loaded, symbol, interval, bars, warmUpBars);
        }
        double max = 0;
        for (int i = 0; i < cases.size(); i++) {
            Case want = cases.get(i);
            Case got = now.get(i);
            String at = "case " + (i + 1) + " (bar " + want.barTime() + "): ";
            Optional<String> d;
            double[] diff = {0};
            d = compare(at + "fused p_up", want.probabilityUp(), got.probabilityUp(), diff);
            if (d.isEmpty() && !java.util.Objects.equals(want.noSignal(), got.noSignal())) {
                d =
                        Optional.of(
                                at
                                        + "no-signal reason was '"
                                        + want.noSignal()
                                        + "', now '"
                                        + got.noSignal()
                                        + "'");
            }
            if (d.isEmpty()
                    && !new TreeMap<>(want.sources()).keySet().equals(got.sources().keySet())) {
                d =
                        Optional.of(
                                at
                                        + "sources forecasting were "
                                        + new TreeMap<>(want.sources()).keySet()
                                        + ", now "
                                        + new TreeMap<>(got.sources()).keySet()
                                        + " (failed now: "
                                        + got.failed()
                                        + ")");
            }
            for (var e : new TreeMap<>(want.sources()).entrySet()) {
                if (d.isEmpty()) {
                    d =
                            compare(
                                    at + "source " + e.getKey() + " p_up",
                                    e.getValue(),
                                    got.sources().get(e.getKey()),
                                    diff);
                }
            }
            for (var e : new TreeMap<>(want.fractions()).entrySet()) {
                if (d.isEmpty()) {
                    Double g = got.fractions().get(e.getKey());
                    d =
                            g == null
                                    ? Optional.of(at + "policy " + e.getKey() + " did not decide")
                                    : compare(
                                            at + "policy " + e.getKey() + " fraction",
                                            e.getValue(),
                                            g,
                                            diff);
                }
            }
            max = Math.max(max, diff[0]);
            if (d.isPresent()) {
                return new Result(false, cases.size(), max, d.get());
            }
        }
        return new Result(true, cases.size(), max, "");
    }

    private Optional<String> compare(String what, double want, Double got, double[] maxDiff) {
        if (got == null) {
            return Optional.of(what + " is missing now (recorded " + want + ")");
        }
        if (Double.isNaN(want) || Double.isNaN(got)) {
            return Double.isNaN(want) == Double.isNaN(got)
                    ? Optional.empty()
                    : Optional.of(what + " was " + num(want) + " when registered, now " + num(got));
        }
        double d = Math.abs(want - got);
        maxDiff[0] = Math.max(maxDiff[0], d);
        if (d > tolerance) {
            return Optional.of(
                    String.format(
                            Locale.ROOT,
                            "%s was %s when registered, now %s (|difference| %.3g > tolerance"
                                    + " %.3g)",
                            what,
                            num(want),
                            num(got),
                            d,
                            tolerance));
        }
        return Optional.empty();
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "none" : Double.toString(v);
    }

    /** Steps the bars through a fresh engine and session: the live path. */
    static List<Case> replay(
            BundleLoader.Loaded loaded,
            String symbol,
            Duration interval,
            List<Bar> bars,
            int warmUp) {
        SymbolEngine engine =
                new SymbolEngine(
                        symbol,
                        loaded.rules(),
                        loaded.strategy(),
                        loaded.initialEquity(),
                        null,
                        null);
        loaded.applyExpiry(engine, Optional.empty());
        // The recorded bars are fixed, so any gap between them (weekends) is accepted as recorded.
        SymbolSession session =
                new SymbolSession(new SymbolSession.Settings(symbol, interval, 1_000_000), engine);
        session.warmUp(bars.subList(0, warmUp));
        List<Case> out = new ArrayList<>();
        for (Bar b : bars.subList(warmUp, bars.size())) {
            Step s = session.append(b);
            Map<String, Double> sources = new LinkedHashMap<>();
            for (Forecast f : s.forecasts()) {
                sources.put(f.source(), f.probabilityUp());
            }
            Map<String, Double> fractions = new LinkedHashMap<>();
            for (PolicyStep p : s.policies()) {
                fractions.put(p.policy(), p.decision().fraction());
            }
            out.add(
                    new Case(
                            s.barTime(),
                            s.signal() == null ? Double.NaN : s.signal().probabilityUp(),
                            s.noSignalReason(),
                            sources,
                            List.copyOf(new java.util.TreeSet<>(s.failures().keySet())),
                            fractions));
        }
        return out;
    }

    private static String manifestSha(StrategyBundle bundle) {
        try {
            return ModelStore.sha256(bundle.dir().resolve(StrategyBundle.MANIFEST));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read the manifest of " + bundle.id(), e);
        }
    }

    /**
     * Writes the file.
     *
     * @param file where
     * @throws IOException if it cannot be written
     */
    public void write(Path file) throws IOException {
        ObjectNode root = StrategyBundle.newObject();
        root.put("format", FORMAT);
        root.put("manifest_sha256", manifestSha256);
        root.put("symbol", symbol);
        root.put("interval", interval.toString());
        root.put("window", window);
        root.put("note", note);
        root.put("tolerance", tolerance);
        root.put("warm_up", warmUpBars);
        ArrayNode bs = root.putArray("bars");
        for (Bar b : bars) {
            bs.addObject()
                    .put("t", b.start().toString())
                    .put("o", b.open())
                    .put("h", b.high())
                    .put("l", b.low())
                    .put("c", b.close())
                    .put("v", b.volume());
        }
        ArrayNode cs = root.putArray("cases");
        for (Case c : cases) {
            ObjectNode n = cs.addObject();
            n.put("bar_time", c.barTime().toString());
            if (Double.isNaN(c.probabilityUp())) {
                n.putNull("p_up");
            } else {
                n.put("p_up", c.probabilityUp());
            }
            if (c.noSignal() == null) {
                n.putNull("no_signal");
            } else {
                n.put("no_signal", c.noSignal());
            }
            ObjectNode s = n.putObject("sources");
            new TreeMap<>(c.sources()).forEach(s::put);
            ArrayNode f = n.putArray("failed");
            c.failed().forEach(f::add);
            ObjectNode fr = n.putObject("fractions");
            new TreeMap<>(c.fractions()).forEach(fr::put);
        }
        StrategyBundle.json().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }

    /**
     * Reads and validates a smoke file.
     *
     * @param file the file
     * @return the set
     * @throws IllegalArgumentException {@code [Quiver/BAD_SMOKE]} naming the file and the field
     * @throws IOException if it cannot be read
     */
    public static StrategySmoke read(Path file) throws IOException {
        JsonNode root;
        try {
            root = StrategyBundle.json().readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw bad(file, "body", "is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "body", "is not a JSON object");
        }
        if (!FORMAT.equals(root.path("format").asText())) {
            throw bad(file, "format", "must be " + FORMAT + ", was " + root.path("format"));
        }
        String sha = text(root, "manifest_sha256", file);
        if (!sha.matches("[0-9a-f]{64}")) {
            throw bad(file, "manifest_sha256", "is not a lower-case sha256: " + sha);
        }
        Duration interval;
        try {
            interval = Duration.parse(text(root, "interval", file));
        } catch (DateTimeParseException e) {
            throw bad(file, "interval", "is not an ISO-8601 duration: " + root.path("interval"));
        }
        JsonNode bs = root.path("bars");
        JsonNode cs = root.path("cases");
        if (!bs.isArray() || !cs.isArray() || cs.isEmpty()) {
            throw bad(file, "bars/cases", "must be arrays, cases non-empty");
        }
        List<Bar> bars = new ArrayList<>();
        for (int i = 0; i < bs.size(); i++) {
            JsonNode b = bs.get(i);
            String at = "bars[" + i + "]";
            try {
                bars.add(
                        new Bar(
                                instant(b, "t", at, file),
                                number(b, "o", at, file),
                                number(b, "h", at, file),
                                number(b, "l", at, file),
                                number(b, "c", at, file),
                                number(b, "v", at, file)));
            } catch (QuiverInputException e) {
                throw bad(file, at, e.getMessage());
            }
        }
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < cs.size(); i++) {
            JsonNode c = cs.get(i);
            String at = "cases[" + i + "]";
            JsonNode p = c.path("p_up");
            double pUp = p.isNull() ? Double.NaN : number(c, "p_up", at, file);
            String noSignal = c.path("no_signal").isTextual() ? c.path("no_signal").asText() : null;
            Map<String, Double> sources = new LinkedHashMap<>();
            for (var e : c.path("sources").properties()) {
                sources.put(
                        e.getKey(), number(c.path("sources"), e.getKey(), at + ".sources", file));
            }
            List<String> failed = new ArrayList<>();
            c.path("failed").forEach(f -> failed.add(f.asText()));
            Map<String, Double> fractions = new LinkedHashMap<>();
            for (var e : c.path("fractions").properties()) {
                fractions.put(
                        e.getKey(),
                        number(c.path("fractions"), e.getKey(), at + ".fractions", file));
            }
            if (fractions.isEmpty()) {
                throw bad(file, at + ".fractions", "is empty: a case records every policy");
            }
            cases.add(
                    new Case(
                            instant(c, "bar_time", at, file),
                            pUp,
                            noSignal,
                            sources,
                            failed,
                            fractions));
        }
        int warm = root.path("warm_up").asInt(-1);
        try {
            StrategySmoke s =
                    new StrategySmoke(
                            sha,
                            text(root, "symbol", file),
                            interval,
                            text(root, "window", file),
                            root.path("note").asText(""),
                            number(root, "tolerance", "", file),
                            warm,
                            bars,
                            cases);
            for (int i = 0; i < cases.size(); i++) {
                if (!cases.get(i).barTime().equals(bars.get(warm + i).start())) {
                    throw bad(
                            file,
                            "cases[" + i + "].bar_time",
                            "is "
                                    + cases.get(i).barTime()
                                    + ", but the case's bar starts at "
                                    + bars.get(warm + i).start());
                }
            }
            return s;
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("[Quiver/BAD_SMOKE]")) {
                throw e;
            }
            throw bad(file, "body", e.getMessage());
        }
    }

    private static String text(JsonNode n, String field, Path file) {
        JsonNode v = n.path(field);
        if (!v.isTextual() || v.asText().isEmpty()) {
            throw bad(file, field, "is missing or not a string");
        }
        return v.asText();
    }

    private static double number(JsonNode n, String field, String at, Path file) {
        JsonNode v = n.path(field);
        if (!v.isNumber()) {
            throw bad(file, (at.isEmpty() ? "" : at + ".") + field, "is missing or not a number");
        }
        return v.asDouble();
    }

    private static Instant instant(JsonNode n, String field, String at, Path file) {
        try {
            return Instant.parse(n.path(field).asText());
        } catch (DateTimeParseException e) {
            throw bad(file, at + "." + field, "is not an ISO-8601 instant: " + n.path(field));
        }
    }

    private static IllegalArgumentException bad(Path file, String field, String problem) {
        return new IllegalArgumentException(
                "[Quiver/BAD_SMOKE] " + file + ": field '" + field + "' " + problem);
    }
}

package dev.quiver.host.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.store.BarRow;
import dev.quiver.host.store.SessionRow;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.strategy.StrategyBundle;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Feature drift of the live sessions (issue 12, item 3): per feature of the feature schema, the
 * population stability index and the Kolmogorov-Smirnov statistic ({@link FeatureDrift}) between
 * the served bundle's training window and the last {@code N} live bars of each open session.
 *
 * <p><b>Training window.</b> The final fit's window of the bundle ({@code
 * components.ensemble.training} of its manifest: {@code dataset}, {@code first_bar}, {@code
 * last_bar}, the span the registry tags as {@code quiver.training_span}), read from the bundled
 * series of that name; its features are the point-in-time features of that series (computed from
 * the series' first bar, so the window's first rows are warm). A bundle fitted on a CSV file has no
 * window at hand: its drift is reported unavailable, saying so.
 *
 * <p><b>Live bars.</b> A session's stored bars after its warm-up (the bars it stepped and decided
 * on), the last {@code N} of them; their features are computed over every stored bar of the
 * session, warm-up included, which is what the session's streaming features saw (streaming = batch,
 * {@code SessionParityTest}). A session that re-warmed after a gap is computed across the gap (an
 * approximation near the gap). A session with fewer than {@code N} stepped bars is reported
 * unavailable.
 *
 * <p>Each measurement is exported as gauges {@code quiver_feature_drift_psi{symbol,feature}} and
 * {@code quiver_feature_drift_ks{symbol,feature}} (the last value measured, NaN until one is).
 *
 * <p>Thread-safe.
 */
public final class DriftMonitor {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A bundle's training window.
     *
     * @param bundle the bundle's id
     * @param dataset the series it was fitted on
     * @param firstBar the window's first bar (start time)
     * @param lastBar the window's last bar (start time)
     * @param servesFrom the first bar the bundle may decide (its age and expiry count from it)
     */
    public record TrainingWindow(
            String bundle, String dataset, Instant firstBar, Instant lastBar, Instant servesFrom) {

        /**
         * The final fit's window of a bundle.
         *
         * @param b a verified bundle
         * @return its window
         * @throws IllegalArgumentException if the manifest records none
         */
        public static TrainingWindow of(StrategyBundle b) {
            JsonNode t = b.manifest().path("components").path("ensemble").path("training");
            try {
                return new TrainingWindow(
                        b.id(),
                        t.path("dataset").asText(b.manifest().path("dataset").asText()),
                        Instant.parse(t.path("first_bar").asText()),
                        Instant.parse(t.path("last_bar").asText()),
                        b.servesFrom());
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(
                        "bundle "
                                + b.id()
                                + ": manifest components.ensemble.training has no first_bar and"
                                + " last_bar instants: "
                                + t,
                        e);
            }
        }
    }

    /**
     * One session's drift.
     *
     * @param symbol the session
     * @param window the training window compared against
     * @param bars live bars asked for (N)
     * @param liveFrom the first live bar compared, or null when unavailable
     * @param liveTo the last live bar compared, or null when unavailable
     * @param features per feature, in schema order; empty when unavailable
     * @param unavailable why nothing was measured, or null
     */
    public record SessionDrift(
            String symbol,
            TrainingWindow window,
            int bars,
            Instant liveFrom,
            Instant liveTo,
            Map<String, FeatureDrift.Figures> features,
            String unavailable) {

        /**
         * The JSON-ready form ({@code GET /v1/training/drift}).
         *
         * @return its fields
         */
        public Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("symbol", symbol);
            m.put("bundle", window == null ? null : window.bundle());
            if (window != null) {
                m.put(
                        "training_window",
                        Map.of(
                                "dataset",
                                window.dataset(),
                                "first_bar",
                                window.firstBar().toString(),
                                "last_bar",
                                window.lastBar().toString()));
            }
            m.put("bars", bars);
            if (unavailable != null) {
                m.put("unavailable", unavailable);
                return m;
            }
            m.put("live_from", liveFrom.toString());
            m.put("live_to", liveTo.toString());
            Map<String, Object> f = new LinkedHashMap<>();
            features.forEach(
                    (name, x) -> {
                        Map<String, Object> v = new LinkedHashMap<>();
                        v.put("psi", finite(x.psi()));
                        v.put("ks", finite(x.ks()));
                        v.put("ks_p_value", finite(x.ksPValue()));
                        v.put("reference_values", x.referenceValues());
                        v.put("live_values", x.liveValues());
                        f.put(name, v);
                    });
            m.put("features", f);
            return m;
        }

        /**
         * The largest value of a statistic over some features.
         *
         * @param statistic {@code psi} or {@code ks}
         * @param names the features looked at
         * @return the feature and its value, empty when unavailable
         */
        public Optional<Map.Entry<String, Double>> worst(String statistic, List<String> names) {
            Map.Entry<String, Double> worst = null;
            for (String n : names) {
                FeatureDrift.Figures x = features.get(n);
                if (x == null) {
                    continue;
                }
                double v = statistic.equals("ks") ? x.ks() : x.psi();
                if (worst == null || v > worst.getValue()) {
                    worst = Map.entry(n, v);
                }
            }
            return Optional.ofNullable(worst);
        }
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private final StateStore store;
    private final Supplier<Optional<TrainingWindow>> window;
    private final MeterRegistry metrics;
    private final Map<TrainingWindow, Object> references = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> gauges = new ConcurrentHashMap<>();

    /**
     * The monitor.
     *
     * @param store the state store of the sessions
     * @param window the training window of the bundle served now, empty when none is served
     * @param metrics where the gauges go, or null for none
     */
    public DriftMonitor(
            StateStore store, Supplier<Optional<TrainingWindow>> window, MeterRegistry metrics) {
        this.store = store;
        this.window = window;
        this.metrics = metrics;
    }

    /**
     * The drift of every open session.
     *
     * @param bars live bars per session (N), {@code >= 2}
     * @return per session, by symbol
     * @throws IllegalArgumentException if {@code bars < 2}
     */
    public List<SessionDrift> measure(int bars) {
        List<SessionDrift> out = new ArrayList<>();
        for (SessionRow r : store.openSessions()) {
            out.add(measure(r, bars));
        }
        out.sort(java.util.Comparator.comparing(SessionDrift::symbol));
        return out;
    }

    /**
     * One open session's drift.
     *
     * @param symbol the session
     * @param bars live bars (N), {@code >= 2}
     * @return its drift
     * @throws dev.quiver.api.error.QuiverInputException {@code UNKNOWN_SESSION} if the symbol has
     *     no open session
     */
    public SessionDrift measure(String symbol, int bars) {
        SessionRow r =
                store.session(symbol)
                        .filter(SessionRow::isOpen)
                        .orElseThrow(
                                () ->
                                        new dev.quiver.api.error.QuiverInputException(
                                                "UNKNOWN_SESSION",
                                                "symbol",
                                                "drift",
                                                symbol,
                                                "has no open session"));
        return measure(r, bars);
    }

    private SessionDrift measure(SessionRow row, int bars) {
        if (bars < 2) {
            throw new IllegalArgumentException("bars must be >= 2, was " + bars);
        }
        String symbol = row.symbol();
        Optional<TrainingWindow> w = window.get();
        if (w.isEmpty()) {
            return new SessionDrift(
                    symbol, null, bars, null, null, Map.of(), "the service serves no bundle");
        }
        Object ref = references.computeIfAbsent(w.get(), DriftMonitor::reference);
        if (ref instanceof String why) {
            return new SessionDrift(symbol, w.get(), bars, null, null, Map.of(), why);
        }
        double[][] reference = (double[][]) ref;
        JsonNode settings;
        try {
            settings = JSON.readTree(row.settingsJson());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(
                    "session " + symbol + ": stored settings are not JSON: " + row.settingsJson(),
                    e);
        }
        int warmup = settings.path("warmup_bars").asInt();
        Duration interval = Duration.parse(settings.path("interval").asText("PT4H"));
        List<BarRow> rows = store.bars(symbol);
        int stepped = rows.size() - warmup;
        if (stepped < bars) {
            return new SessionDrift(
                    symbol,
                    w.get(),
                    bars,
                    null,
                    null,
                    Map.of(),
                    "the session has stepped "
                            + Math.max(0, stepped)
                            + " bars; "
                            + bars
                            + " needed");
        }
        List<Bar> all = new ArrayList<>(rows.size());
        for (BarRow b : rows) {
            all.add(
                    new Bar(
                            Instant.ofEpochMilli(b.startMs()),
                            b.open(),
                            b.high(),
                            b.low(),
                            b.close(),
                            b.volume()));
        }
        FeatureMatrix fm = FeaturePipeline.compute(new BarData(symbol, interval, all));
        int from = all.size() - bars;
        List<String> names = FeaturePipeline.SCHEMA.names();
        Map<String, FeatureDrift.Figures> figures = new LinkedHashMap<>();
        for (int f = 0; f < names.size(); f++) {
            double[] live = finiteColumn(fm, f, from, all.size());
            if (live.length < 2) {
                continue; // still warming up: the session's warm-up was shorter than the features'
            }
            FeatureDrift.Figures x = FeatureDrift.compare(reference[f], live);
            figures.put(names.get(f), x);
            gauge("psi", symbol, names.get(f)).set(Double.doubleToLongBits(x.psi()));
            gauge("ks", symbol, names.get(f)).set(Double.doubleToLongBits(x.ks()));
        }
        return new SessionDrift(
                symbol,
                w.get(),
                bars,
                all.get(from).start(),
                all.get(all.size() - 1).start(),
                figures,
                figures.isEmpty() ? "no live bar has warm features yet" : null);
    }

    private AtomicLong gauge(String statistic, String symbol, String feature) {
        return gauges.computeIfAbsent(
                statistic + "|" + symbol + "|" + feature,
                k -> {
                    AtomicLong bits = new AtomicLong(Double.doubleToLongBits(Double.NaN));
                    if (metrics != null) {
                        Gauge.builder(
                                        "quiver_feature_drift_" + statistic,
                                        bits,
                                        b -> Double.longBitsToDouble(b.get()))
                                .description(
                                        statistic.equals("psi")
                                                ? "Population stability index of a feature: the"
                                                        + " served bundle's training window against"
                                                        + " the session's last live bars"
                                                : "Kolmogorov-Smirnov statistic D of a feature:"
                                                        + " the served bundle's training window"
                                                        + " against the session's last live bars")
                                .tag("symbol", symbol)
                                .tag("feature", feature)
                                .register(metrics);
                    }
                    return bits;
                });
    }

    private static double[] finiteColumn(FeatureMatrix fm, int feature, int from, int to) {
        double[] out = new double[to - from];
        int n = 0;
        for (int i = Math.max(from, fm.firstWarmIndex()); i < to; i++) {
            double v = fm.get(i, feature);
            if (Double.isFinite(v)) {
                out[n++] = v;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /**
     * The reference columns of a training window ({@code double[feature][value]}), or why there are
     * none (a String).
     */
    private static Object reference(TrainingWindow w) {
        Optional<BundledData> data = BundledData.byId(w.dataset());
        if (data.isEmpty()) {
            return "the bundle was fitted on '"
                    + w.dataset()
                    + "', not one of the bundled series "
                    + BundledData.ids()
                    + ": its training window's bars are not at hand";
        }
        return referenceColumns(data.get().load(), w);
    }

    /**
     * The features of a series' bars inside a window, per feature, finite values only.
     *
     * @param series the series the window is on
     * @param w the window
     * @return {@code double[feature][value]}, or a String saying why there are too few
     */
    static Object referenceColumns(BarData series, TrainingWindow w) {
        long first = w.firstBar().toEpochMilli();
        long last = w.lastBar().toEpochMilli();
        int end = 0;
        while (end < series.size() && series.startMillis[end] <= last) {
            end++;
        }
        int start = 0;
        while (start < end && series.startMillis[start] < first) {
            start++;
        }
        FeatureMatrix fm = FeaturePipeline.compute(series.truncate(end));
        int features = FeaturePipeline.SCHEMA.size();
        double[][] out = new double[features][];
        for (int f = 0; f < features; f++) {
            out[f] = finiteColumn(fm, f, start, end);
            if (out[f].length < FeatureDrift.BINS) {
                return "the training window "
                        + w.firstBar()
                        + ".."
                        + w.lastBar()
                        + " of "
                        + w.dataset()
                        + " has "
                        + out[f].length
                        + " warm values of "
                        + FeaturePipeline.SCHEMA.names().get(f)
                        + "; at least "
                        + FeatureDrift.BINS
                        + " needed";
            }
        }
        return out;
    }
}

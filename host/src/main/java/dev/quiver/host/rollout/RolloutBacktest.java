package dev.quiver.host.rollout;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.backtest.Fold;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.WalkForwardBacktest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code backtest --rollout}: replays a prediction rollout's champion and challenger over history
 * with the service's own {@link RolloutController} (so the same {@link CanaryRouter} routing and
 * the same rules), and reports per-variant figures and when the rules would have promoted or rolled
 * back.
 *
 * <p>Two passes. (1) Per series, per walk-forward fold of {@link WalkForwardBacktest#layout} (the
 * main backtest's folds and windows), both variants are fitted on the fold's labelled training
 * frames ({@link WalkForwardBacktest#trainingFrames}: every label known at or before the first test
 * bar minus the embargo; a source without training ignores the fit) and then forecast each of the
 * fold's test bars from that bar's point-in-time frame. A variant that declines a bar (a {@link
 * QuiverInputException}, e.g. {@code IN_TRAINING_SPAN}: a registered model never scores a bar of
 * its own training span) has no output there and is counted as declined; one that throws otherwise,
 * returns nothing, or whose fit failed is counted as failed. (2) The test bars of all series are
 * interleaved in time order (ties in series order); at each bar {@code t} of a series the
 * controller first resolves the series' pending bar {@code t - 1} with {@code close[t]} (the
 * outcome of {@code t - 1} is known at {@code t}'s close; a transition is stamped with bar {@code
 * t}'s start time), then routes bar {@code t} by its routing key, and records both outputs with the
 * variant that acts (the routed one, or the other one when the routed one has no output, as the
 * service does). The forecasts do not depend on the controller's state, so computing them first is
 * the same as computing them bar by bar.
 *
 * <p>Routing key: {@link KeyMode#SERIES} routes by the series' name (the service's symbol key: a
 * whole series goes to one variant in canary); {@link KeyMode#BAR} routes by {@code
 * series@barStart} (ISO-8601), one key per bar, so a canary share is a share of bars. Positions
 * (for the P&amp;L metric and its costs) are tracked per series in both cases.
 *
 * <p>P&amp;L per bar and variant: {@code w r - c |w - w_prev|}, {@code w = 1} when {@code p > 0.5}
 * else 0, {@code r = close[t + 1] / close[t] - 1}, {@code c = rules.cost_bps / 1e4} per side: the
 * controller's formula, which the caller makes agree with the main backtest's {@code CostModel}
 * (fee + slippage). Unlike the main backtest there is no fill at the next open, no stop and no
 * sizing policy: a rollout scores forecasts, not an account.
 *
 * <p>Not thread-safe; the capabilities are called from the calling thread only.
 */
public final class RolloutBacktest {

    /** Forecast status of a variant at a bar. */
    public enum Status {
        /** The variant forecast the bar. */
        OK,
        /** The variant declined the bar ({@code QuiverInputException}, e.g. IN_TRAINING_SPAN). */
        DECLINED,
        /** The call threw, returned nothing, or the variant's fit for the fold failed. */
        FAILED;

        /**
         * The report name.
         *
         * @return lower case
         */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What a routing key is in a replay. */
    public enum KeyMode {
        /** One key per series (the service's symbol key). */
        SERIES,
        /** One key per bar: {@code series@barStart}. */
        BAR;

        /**
         * The command-line name.
         *
         * @return {@code series} or {@code bar}
         */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * Parses the command-line name.
         *
         * @param id {@code series} or {@code bar}
         * @return the mode
         * @throws QuiverInputException naming {@code --rollout-key} if it is neither
         */
        public static KeyMode parse(String id) {
            return switch (id) {
                case "series" -> SERIES;
                case "bar" -> BAR;
                default ->
                        throw new QuiverInputException(
                                "BAD_OPTION",
                                "--rollout-key",
                                "command line",
                                id,
                                "is not one of series, bar");
            };
        }

        /**
         * The routing key of a bar.
         *
         * @param series the series' name
         * @param barStart the bar's start
         * @return the series name, or {@code series@barStart}
         */
        public String key(String series, Instant barStart) {
            return this == SERIES ? series : series + "@" + barStart;
        }
    }

    /**
     * One replayed bar: what both variants said and what acted.
     *
     * @param series the series' name
     * @param barStart the decision bar's start
     * @param close the decision bar's close
     * @param outcomeClose the next bar's close (the outcome)
     * @param key the routing key
     * @param champion the champion's probability of an up move, NaN when it has none
     * @param challenger the challenger's, NaN likewise
     * @param championStatus why the champion has a forecast or not
     * @param challengerStatus likewise
     * @param routed the role {@link RolloutController#route} chose
     * @param acted the role whose output acted (the routed one unless it had none)
     * @param stage the stage in force when the bar was routed
     * @param lossDifference the rules' loss of the challenger minus the champion's at this bar
     *     ({@code rules.metric}; for pnl the loss is minus the bar's cost-adjusted P&amp;L), NaN
     *     unless both forecast it
     */
    public record Row(
            String series,
            Instant barStart,
            double close,
            double outcomeClose,
            String key,
            double champion,
            double challenger,
            Status championStatus,
            Status challengerStatus,
            Role routed,
            Role acted,
            Stage stage,
            double lossDifference) {}

    /**
     * Per-variant counts and figures over the whole replay (every bar with an outcome, whatever the
     * stage; after a verdict the controller stops scoring, these do not).
     *
     * @param figures log-loss, Brier, hit rate (over bars forecast) and cost-adjusted P&amp;L
     * @param routed bars this variant acted on
     * @param declined bars it declined (not failures)
     * @param failed bars it failed on (throws, nothing returned, fit failed)
     * @param fitFailures folds whose fit failed
     */
    public record VariantReport(
            VariantFigures figures, long routed, long declined, long failed, int fitFailures) {}

    /**
     * A transition with the bar that triggered it.
     *
     * @param series the series whose outcome triggered it
     * @param barStart start of the bar whose close completed that outcome
     * @param scoredBars outcomes resolved before it, all series, counting this one
     * @param transition the controller's transition
     */
    public record Event(String series, Instant barStart, long scoredBars, Transition transition) {}

    /**
     * The replay's result.
     *
     * @param spec the rollout
     * @param keyMode the routing key
     * @param series names of the series replayed, in order
     * @param folds per series, its folds
     * @param rows every replayed bar with an outcome, in replay (time) order
     * @param variants per role, whole-replay figures
     * @param controllerFigures per role, the controller's own figures (stop at a verdict)
     * @param served figures of whichever variant acted, as the controller scored them
     * @param timeline the transitions, oldest first
     * @param finalStage the stage at the end
     * @param stageStatus the controller's final stage status
     */
    public record Result(
            RolloutSpec spec,
            KeyMode keyMode,
            List<String> series,
            Map<String, List<Fold>> folds,
            List<Row> rows,
            Map<Role, VariantReport> variants,
            Map<Role, VariantFigures> controllerFigures,
            VariantFigures served,
            List<Event> timeline,
            Stage finalStage,
            Map<String, Object> stageStatus) {}

    private final WalkForwardBacktest.Config config;
    private final KeyMode keyMode;

    /**
     * A replay.
     *
     * @param config the main backtest's windows (train, embargo, test bars) and costs
     * @param keyMode the routing key
     */
    public RolloutBacktest(WalkForwardBacktest.Config config, KeyMode keyMode) {
        this.config = config;
        this.keyMode = keyMode;
    }

    /**
     * Checks that the spec's cost per side equals the backtest's (fee + slippage), so that the
     * rollout's P&amp;L is charged as the main backtest charges it.
     *
     * @param spec the rollout
     * @param config the backtest's configuration
     * @throws IllegalArgumentException naming both rates when they differ
     */
    public static void checkCosts(RolloutSpec spec, WalkForwardBacktest.Config config) {
        double backtestBps = config.costs().feeBps() + config.costs().slippageBps();
        if (Math.abs(spec.rules().costBps() - backtestBps) > 1e-9) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "[Quiver/BAD_OPTION] rollout '%s': rules.cost_bps is %s but --fee-bps"
                                    + " + --slippage-bps is %s; the replay charges one rate per"
                                    + " side, make them agree",
                            spec.id(),
                            spec.rules().costBps(),
                            backtestBps));
        }
    }

    /**
     * Runs the replay.
     *
     * @param spec the rollout; must be of a prediction capability
     * @param series the series' point-in-time features, at least one, distinct names
     * @param champion the champion, running
     * @param challenger the challenger, running
     * @param progress told after each fold of each series
     * @return the result
     * @throws IllegalArgumentException if the spec is of a sizing capability, a series is too short
     *     for one fold, series names repeat, or the costs disagree ({@link #checkCosts})
     */
    public Result run(
            RolloutSpec spec,
            List<FeatureMatrix> series,
            PredictionCapability champion,
            PredictionCapability challenger,
            Progress progress) {
        if (spec.kind() != RolloutSpec.Kind.PREDICTION) {
            throw new IllegalArgumentException(
                    "[Quiver/ROLLOUT_BACKTEST] rollout '"
                            + spec.id()
                            + "' is of a sizing capability: a sizing policy's output depends on"
                            + " the account it sizes (equity, drawdown, fills), which a replay of"
                            + " two variants side by side does not have; only prediction"
                            + " rollouts can be backtested");
        }
        if (series.isEmpty()) {
            throw new IllegalArgumentException("need at least one series");
        }
        checkCosts(spec, config);
        List<String> names = new ArrayList<>();
        for (FeatureMatrix f : series) {
            if (names.contains(f.bars().symbol())) {
                throw new IllegalArgumentException(
                        "series '" + f.bars().symbol() + "' given twice");
            }
            names.add(f.bars().symbol());
        }
        PredictionCapability[] variants = {champion, challenger};
        int[] fitFailures = new int[2];
        Map<String, List<Fold>> folds = new LinkedHashMap<>();
        double[][][] p = new double[series.size()][2][];
        Status[][][] status = new Status[series.size()][2][];
        int[] firstTest = new int[series.size()];
        for (int s = 0; s < series.size(); s++) {
            FeatureMatrix f = series.get(s);
            BarData bars = f.bars();
            List<Fold> fs = WalkForwardBacktest.layout(bars, f.firstWarmIndex(), config);
            if (fs.isEmpty()) {
                throw new IllegalArgumentException(
                        "series '"
                                + bars.symbol()
                                + "' has "
                                + bars.size()
                                + " bars: too short for warm-up "
                                + f.firstWarmIndex()
                                + " + trainBars "
                                + config.trainBars()
                                + " + embargoBars "
                                + config.embargoBars()
                                + " + 1 test bar");
            }
            folds.put(bars.symbol(), fs);
            firstTest[s] = fs.get(0).testFirst();
            for (int v = 0; v < 2; v++) {
                p[s][v] = new double[bars.size()];
                Arrays.fill(p[s][v], Double.NaN);
                status[s][v] = new Status[bars.size()];
            }
            for (Fold fold : fs) {
                List<LabeledFrame> frames = WalkForwardBacktest.trainingFrames(fold, f, config);
                boolean[] fitted = new boolean[2];
                for (int v = 0; v < 2; v++) {
                    try {
                        variants[v].fit(frames);
                        fitted[v] = true;
                    } catch (RuntimeException | LinkageError e) {
                        fitFailures[v]++;
                    }
                }
                for (int t = fold.testFirst(); t <= fold.testLast(); t++) {
                    var frame = f.frame(t);
                    for (int v = 0; v < 2; v++) {
                        if (!fitted[v]) {
                            status[s][v][t] = Status.FAILED;
                            continue;
                        }
                        try {
                            Forecast fc = variants[v].forecast(frame);
                            if (fc == null) {
                                status[s][v][t] = Status.FAILED;
                            } else {
                                p[s][v][t] = fc.probabilityUp();
                                status[s][v][t] = Status.OK;
                            }
                        } catch (QuiverInputException e) {
                            status[s][v][t] = Status.DECLINED;
                        } catch (RuntimeException | LinkageError e) {
                            status[s][v][t] = Status.FAILED;
                        }
                    }
                }
                progress.update(
                        "rollout " + spec.id() + " " + bars.symbol(),
                        fold.index() + 1,
                        fs.size(),
                        fold.testLast() + 1,
                        bars.size());
            }
        }

        double[][][] w = new double[series.size()][2][];
        List<BarData> barsOf = new ArrayList<>();
        for (int s = 0; s < series.size(); s++) {
            barsOf.add(series.get(s).bars());
            for (int v = 0; v < 2; v++) {
                w[s][v] = new double[p[s][v].length];
                for (int t = 0; t < w[s][v].length; t++) {
                    w[s][v][t] = p[s][v][t] > 0.5 ? 1 : 0;
                }
            }
        }
        return replay(spec, barsOf, new Outputs(p, w, status, firstTest), folds, fitFailures);
    }

    /**
     * What two variants said at each bar of each series, computed before the replay (they do not
     * depend on the controller's state).
     *
     * @param probability per series, role ({@code 0} champion, {@code 1} challenger) and bar: the
     *     probability of an up move, NaN when the variant has no output there
     * @param position likewise, the position it holds over the next bar, fraction of equity in
     *     {@code [0, 1]} (a prediction: 1 when {@code p > 0.5}, else 0; a strategy bundle: its
     *     acting policy's fraction)
     * @param status likewise, why the variant has an output or not
     * @param firstBar per series, the first bar replayed
     */
    public record Outputs(
            double[][][] probability, double[][][] position, Status[][][] status, int[] firstBar) {}

    /**
     * Pass 2: every series' bars from {@code firstBar} in time order through a {@link
     * RolloutController} (routing, recording, scoring, the rules), as the class comment describes.
     *
     * @param spec the rollout
     * @param series the series, in the order of {@code outputs}
     * @param outputs both variants' outputs per bar
     * @param folds per series, its folds (empty for a replay without folds, e.g. two bundles)
     * @param fitFailures per role, folds whose fit failed
     * @return the result
     */
    public Result replay(
            RolloutSpec spec,
            List<BarData> series,
            Outputs outputs,
            Map<String, List<Fold>> folds,
            int[] fitFailures) {
        double[][][] p = outputs.probability();
        double[][][] pos = outputs.position();
        Status[][][] status = outputs.status();
        int[] firstTest = outputs.firstBar();
        List<String> names = new ArrayList<>();
        for (BarData b : series) {
            names.add(b.symbol());
        }
        // Pass 2: all series' test bars in time order, through the controller.
        List<long[]> events = new ArrayList<>(); // {time, series, bar}
        for (int s = 0; s < series.size(); s++) {
            BarData bars = series.get(s);
            for (int t = firstTest[s]; t < bars.size(); t++) {
                events.add(new long[] {bars.startMillis[t], s, t});
            }
        }
        events.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        RolloutController c =
                RolloutController.start(
                        spec, Instant.ofEpochMilli(events.isEmpty() ? 0 : events.get(0)[0]));
        List<Row> rows = new ArrayList<>();
        List<Event> timeline = new ArrayList<>();
        long scored = 0;
        EnumMap<Role, VariantTotals> totals = new EnumMap<>(Role.class);
        EnumMap<Role, long[]> counts = new EnumMap<>(Role.class); // routed, declined, failed
        for (Role r : Role.values()) {
            totals.put(r, VariantTotals.EMPTY);
            counts.put(r, new long[3]);
        }
        double cost = spec.rules().costBps() / 10_000;
        double[][] lastPosition = new double[series.size()][2];
        for (long[] e : events) {
            int s = (int) e[1];
            int t = (int) e[2];
            BarData bars = series.get(s);
            String name = bars.symbol();
            Instant at = Instant.ofEpochMilli(e[0]);
            if (t > firstTest[s]) {
                Instant prev = Instant.ofEpochMilli(bars.startMillis[t - 1]);
                List<Transition> ts = c.resolve(name, prev, at, bars.close[t], at);
                scored++;
                for (Transition tr : ts) {
                    timeline.add(new Event(name, at, scored, tr));
                }
            }
            if (t + 1 >= bars.size()) {
                continue; // the series' last bar: no outcome to score
            }
            String key = keyMode.key(name, at);
            Stage stage = c.stage();
            Role routed = c.route(key);
            double pc = p[s][0][t];
            double px = p[s][1][t];
            boolean hasC = !Double.isNaN(pc);
            boolean hasX = !Double.isNaN(px);
            boolean hasRouted = routed == Role.CHAMPION ? hasC : hasX;
            Role acted =
                    hasRouted || (!hasC && !hasX)
                            ? routed
                            : (hasC ? Role.CHAMPION : Role.CHALLENGER);
            c.record(
                    name,
                    at,
                    bars.close[t],
                    hasC ? new VariantOutput(pc, pos[s][0][t]) : null,
                    hasX ? new VariantOutput(px, pos[s][1][t]) : null,
                    acted);
            counts.get(acted)[0]++;
            // whole-replay figures, the controller's formulas, positions per series
            double r = bars.close[t + 1] / bars.close[t] - 1;
            boolean up = Math.log(bars.close[t + 1] / bars.close[t]) > 0;
            double[] lossOf = {Double.NaN, Double.NaN};
            for (Role role : Role.values()) {
                int v = role.ordinal();
                Status st = status[s][v][t];
                if (st == Status.DECLINED) {
                    counts.get(role)[1]++;
                } else if (st == Status.FAILED) {
                    counts.get(role)[2]++;
                }
                double q = p[s][v][t];
                if (Double.isNaN(q)) {
                    continue;
                }
                double w = pos[s][v][t];
                double pl = w * r - cost * Math.abs(w - lastPosition[s][v]);
                lastPosition[s][v] = w;
                totals.put(role, totals.get(role).plus(q, up, pl));
                lossOf[v] =
                        switch (spec.rules().metric()) {
                            case LOG_LOSS -> Metric.logLoss(q, up);
                            case BRIER -> Metric.brier(q, up);
                            case HIT_RATE -> Metric.hit(q, up) ? 0 : 1;
                            case PNL -> -pl;
                        };
            }
            rows.add(
                    new Row(
                            name,
                            at,
                            bars.close[t],
                            bars.close[t + 1],
                            key,
                            pc,
                            px,
                            status[s][0][t],
                            status[s][1][t],
                            routed,
                            acted,
                            stage,
                            lossOf[1] - lossOf[0]));
        }
        Map<Role, VariantReport> reports = new EnumMap<>(Role.class);
        Map<Role, VariantFigures> controllerFigures = new EnumMap<>(Role.class);
        for (Role role : Role.values()) {
            long[] k = counts.get(role);
            reports.put(
                    role,
                    new VariantReport(
                            totals.get(role).figures(),
                            k[0],
                            k[1],
                            k[2],
                            fitFailures[role.ordinal()]));
            controllerFigures.put(role, c.figures(role));
        }
        return new Result(
                spec,
                keyMode,
                List.copyOf(names),
                folds,
                List.copyOf(rows),
                reports,
                controllerFigures,
                c.servedFigures(),
                List.copyOf(timeline),
                c.stage(),
                new TreeMap<>(c.stageStatus()));
    }
}

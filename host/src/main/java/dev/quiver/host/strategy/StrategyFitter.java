package dev.quiver.host.strategy;

import dev.quiver.api.QuiverApi;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.ReportWriter;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Fits a strategy bundle: the walk-forward on one series, then the final fit of every component on
 * the most recent window, the bundle written with its manifest, the walk-forward's report beside
 * it, and (optionally) smoke cases recorded and the bundle registered as a new MLflow version.
 * {@code quiver strategy fit} and the training job {@code fit-strategy} both call this, so a
 * scheduled fit is the same fit a user runs by hand.
 */
public final class StrategyFitter {

    private StrategyFitter() {}

    /**
     * What to fit.
     *
     * @param series the whole series (smoke cases may come from bars after {@code fitted})
     * @param fitted the bars the bundle is fitted on: a prefix of {@code series}
     * @param config the walk-forward settings
     * @param threads fold threads, {@code >= 1}
     * @param out the bundle folder to create (must not exist); the report goes to its sibling
     *     {@code <out>-report}
     * @param maxAge the bundle's maximum age after which decisions abstain
     * @param created the bundle's creation time (its age counts from here)
     * @param sources the prediction sources to fit, by name; empty for every wired one
     * @param sizingRule an evolved sizing rule ({@link EvolvedSizing}): the policy it names sizes
     *     through it in the walk-forward, the smoke cases and (recorded in the manifest) wherever
     *     the bundle serves; empty for none
     */
    public record Request(
            BarData series,
            BarData fitted,
            WalkForwardBacktest.Config config,
            int threads,
            Path out,
            Duration maxAge,
            Instant created,
            List<String> sources,
            Optional<EvolvedSizing.Rule> sizingRule) {

        /** Copies the list. */
        public Request {
            sources = List.copyOf(sources);
        }

        /**
         * Every wired source, no evolved sizing rule.
         *
         * @param series the whole series (smoke cases may come from bars after {@code fitted})
         * @param fitted the bars the bundle is fitted on: a prefix of {@code series}
         * @param config the walk-forward settings
         * @param threads fold threads, {@code >= 1}
         * @param out the bundle folder to create (must not exist)
         * @param maxAge the bundle's maximum age after which decisions abstain
         * @param created the bundle's creation time
         */
        public Request(
                BarData series,
                BarData fitted,
                WalkForwardBacktest.Config config,
                int threads,
                Path out,
                Duration maxAge,
                Instant created) {
            this(
                    series,
                    fitted,
                    config,
                    threads,
                    out,
                    maxAge,
                    created,
                    List.of(),
                    Optional.empty());
        }
    }

    /**
     * Where and how to register the bundle.
     *
     * @param registrar the MLflow registrar
     * @param experiment the MLflow experiment of the fit's run
     * @param name the registered model's name
     * @param aliases aliases to point at the new version (e.g. {@code challenger})
     * @param smokeBars decisions recorded as smoke cases, {@code >= 1}
     * @param smokeTolerance largest accepted difference of a replayed probability or fraction
     * @param extraParams extra run parameters (e.g. the data file)
     */
    public record Registration(
            BundleRegistrar registrar,
            String experiment,
            String name,
            List<String> aliases,
            int smokeBars,
            double smokeTolerance,
            Map<String, String> extraParams) {}

    /**
     * What a fit produced.
     *
     * @param bundle the written, verified bundle
     * @param report the walk-forward report's folder
     * @param fit the walk-forward's result and the final fit
     * @param smoke the recorded smoke cases and their window, when registered
     * @param registered the registered version, when registered
     */
    public record Fitted(
            StrategyBundle bundle,
            Path report,
            WalkForwardBacktest.FinalFit fit,
            Optional<Smoke> smoke,
            Optional<BundleRegistrar.Registered> registered) {}

    /**
     * Smoke cases recorded for a registration.
     *
     * @param smoke the cases
     * @param window where in the series they come from
     * @param file the file they were written to
     */
    public record Smoke(StrategySmoke smoke, StrategySmoke.Window window, Path file) {}

    /**
     * Fits, writes and (with {@code registration}) registers a bundle.
     *
     * @param plugins the started plugins (their predictions, ensembles and sizings are fitted)
     * @param request what to fit
     * @param registration where to register it; empty: only write it
     * @param progress per-fold progress of the walk-forward
     * @return the bundle, its report and registration
     * @throws IllegalArgumentException if the plugins offer no prediction or no sizing, a named
     *     source is not wired, or the sizing rule's policy is not wired or cannot take it
     * @throws UncheckedIOException if the report or smoke file cannot be written
     * @throws dev.quiver.host.mlflow.MlflowException if registering fails
     */
    public static Fitted fit(
            PluginRuntime plugins,
            Request request,
            Optional<Registration> registration,
            Progress progress) {
        if (plugins.predictions().isEmpty() || plugins.sizings().isEmpty()) {
            throw new IllegalArgumentException(
                    "[Quiver/NOTHING_TO_RUN] the plugins folder has no prediction or no sizing"
                            + " plugin that started");
        }
        EnsembleCapability ensemble = ensembleOf(plugins);
        BarData bars = request.fitted();
        List<PredictionCapability> sources = plugins.predictions();
        if (!request.sources().isEmpty()) {
            sources = new ArrayList<>();
            for (String name : request.sources()) {
                sources.add(
                        plugins.predictions().stream()
                                .filter(c -> c.descriptor().name().equals(name))
                                .findFirst()
                                .orElseThrow(
                                        () ->
                                                new IllegalArgumentException(
                                                        "[Quiver/NOTHING_TO_RUN] source '"
                                                                + name
                                                                + "' is not a wired prediction")));
            }
        }
        // The walk-forward sizes the rule's policy through the rule (the same wrapper the bundle's
        // loader puts around it); the bundle records the plugin's policy and the rule.
        List<SizingCapability> sizing = new ArrayList<>();
        boolean ruled = false;
        for (SizingCapability p : plugins.sizings()) {
            var rule = request.sizingRule().filter(r -> r.policy().equals(p.descriptor().name()));
            sizing.add(rule.isPresent() ? EvolvedSizing.wrap(p, rule.get()) : p);
            ruled |= rule.isPresent();
        }
        if (request.sizingRule().isPresent() && !ruled) {
            throw new IllegalArgumentException(
                    "[Quiver/NOTHING_TO_RUN] the evolved sizing rule's policy '"
                            + request.sizingRule().get().policy()
                            + "' is not a wired sizing policy");
        }
        WalkForwardBacktest.FinalFit fit =
                new WalkForwardBacktest(request.config())
                        .withThreads(request.threads())
                        .runAndFitFinal(
                                FeaturePipeline.compute(bars), sources, ensemble, sizing, progress);
        Map<String, String> versions = new TreeMap<>();
        for (LoadedPlugin p : plugins.plugins()) {
            versions.put(p.id(), p.version());
        }
        StrategyBundle bundle =
                BundleWriter.write(
                        request.out(),
                        sources,
                        ensemble,
                        plugins.sizings(),
                        new BundleWriter.Context(
                                bars,
                                request.config(),
                                fit,
                                FeaturePipeline.SCHEMA,
                                QuiverApi.VERSION,
                                versions,
                                request.maxAge(),
                                request.created(),
                                request.sizingRule()));
        Path out = request.out();
        Path report = out.resolve("..").resolve(out.getFileName() + "-report").normalize();
        try {
            new ReportWriter().write(fit.result(), report);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report to " + report, e);
        }
        if (registration.isEmpty()) {
            return new Fitted(bundle, report, fit, Optional.empty(), Optional.empty());
        }
        Registration reg = registration.get();
        stopIfInterrupted("before recording the smoke cases");
        BarData series = request.series();
        StrategySmoke.Window w =
                StrategySmoke.casesFor(series, bars.size(), bundle.servesFrom(), reg.smokeBars());
        StrategySmoke smoke =
                StrategySmoke.record(
                        bundle,
                        plugins,
                        series,
                        w,
                        StrategySmoke.DEFAULT_WARM_UP,
                        reg.smokeTolerance());
        Path smokeFile = report.resolve(StrategySmoke.FILE_NAME);
        try {
            smoke.write(smokeFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + smokeFile, e);
        }
        Map<String, String> extra = new LinkedHashMap<>(reg.extraParams());
        extra.put("series_bars", Integer.toString(series.size()));
        extra.put("fitted_bars", Integer.toString(bars.size()));
        extra.put(
                "fitted_span",
                Instant.ofEpochMilli(bars.startMillis[0])
                        + ".."
                        + Instant.ofEpochMilli(bars.startMillis[bars.size() - 1]));
        extra.put("smoke_window", w.window());
        stopIfInterrupted("before registering");
        BundleRegistrar.Registered r =
                reg.registrar()
                        .register(
                                reg.experiment(),
                                reg.name(),
                                bundle,
                                smokeFile,
                                Optional.of(report),
                                extra,
                                reg.aliases());
        return new Fitted(
                bundle, report, fit, Optional.of(new Smoke(smoke, w, smokeFile)), Optional.of(r));
    }

    /**
     * The ensembles {@code quiver backtest} scores beside the one that trades ({@link
     * #ensembleOf}): every other installed ensemble, reported as {@code fused/<name>}; they never
     * size or trade. {@code quiver bench --main-job} runs the same job with them.
     *
     * @param plugins the started plugins
     * @param ensemble the ensemble that trades
     * @return the others, in the plugins' order
     */
    public static List<EnsembleCapability> comparedEnsembles(
            PluginRuntime plugins, EnsembleCapability ensemble) {
        return plugins.ensembles().stream().filter(e -> e != ensemble).toList();
    }

    /**
     * The ensemble a fit uses: the plugin ensemble named {@code stack}, else the first plugin
     * ensemble, else the built-in equal-weight fusion.
     *
     * @param plugins the started plugins
     * @return the ensemble
     */
    public static EnsembleCapability ensembleOf(PluginRuntime plugins) {
        return plugins.ensembles().stream()
                .filter(e -> e.descriptor().name().equals("stack"))
                .findFirst()
                .or(() -> plugins.ensembles().stream().findFirst())
                .orElseGet(WeightedFusion::new);
    }

    /**
     * A cancelled training job interrupts the fitting thread: nothing is registered after it.
     *
     * @param where the step not taken, for the message
     * @throws java.util.concurrent.CancellationException if the current thread is interrupted
     */
    private static void stopIfInterrupted(String where) {
        if (Thread.currentThread().isInterrupted()) {
            throw new java.util.concurrent.CancellationException(
                    "strategy fit stopped " + where + ": its thread was interrupted");
        }
    }
}

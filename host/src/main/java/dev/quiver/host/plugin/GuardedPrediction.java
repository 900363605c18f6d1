package dev.quiver.host.plugin;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.List;

/**
 * A plugin's prediction behind its {@link PluginGuard}: every call under a deadline on the plugin's
 * pool; a forecast for another bar, with another horizon than declared, or under another source
 * name is garbage. The descriptor is read once, when the plugin is wired.
 */
final class GuardedPrediction implements PredictionCapability, Guarded {

    private final PredictionCapability delegate;
    private final PluginGuard guard;
    private final CapabilityDescriptor descriptor;
    private final Long horizonBars;
    private final Runnable afterClose;
    private final int batchSize;

    /** The per-bar deadline, the body and the check of {@link #forecast}, built once. */
    private final java.time.Duration deadline;

    private final PluginGuard.Body<FeatureFrame, Forecast> forecastBody;
    private final PluginGuard.Check<FeatureFrame, Forecast> forecastCheck;

    private final java.util.concurrent.atomic.AtomicBoolean closed =
            new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * @param delegate the plugin's extension
     * @param guard its plugin's guard
     * @param horizonBars the horizon its capability declares, or null if it declares none
     */
    GuardedPrediction(PredictionCapability delegate, PluginGuard guard, Long horizonBars) {
        this(delegate, guard, horizonBars, () -> {});
    }

    /**
     * @param afterClose run once after the first {@link #close()} (e.g. closing an instance's own
     *     guard)
     */
    GuardedPrediction(
            PredictionCapability delegate,
            PluginGuard guard,
            Long horizonBars,
            Runnable afterClose) {
        this.delegate = delegate;
        this.guard = guard;
        this.descriptor = delegate.descriptor();
        this.batchSize = Math.max(1, delegate.forecastBatchSize());
        this.horizonBars = horizonBars;
        this.afterClose = afterClose;
        this.deadline = guard.policy().deadline();
        this.forecastBody = delegate::forecast;
        this.forecastCheck = (frame, f) -> problem(f, frame);
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        return guard.call(
                descriptor.name(), "forecast", deadline, frame, forecastBody, forecastCheck);
    }

    /** The plugin's batch size, read once when the plugin is wired (below 1 counts as 1). */
    @Override
    public int forecastBatchSize() {
        return batchSize;
    }

    /**
     * The plugin's batch forecast under the guard, as one call whose deadline is the per-bar
     * deadline times the number of frames (at most the fit deadline); the result must hold one
     * forecast per frame, each valid for its frame as {@link #forecast}'s. A source without a batch
     * path ({@link #forecastBatchSize()} 1) is asked frame by frame, each call guarded as {@link
     * #forecast}.
     */
    @Override
    public List<Forecast> forecastBatch(List<FeatureFrame> frames) {
        if (batchSize == 1) {
            return PredictionCapability.super.forecastBatch(frames);
        }
        java.time.Duration perBar = guard.policy().deadline();
        java.time.Duration fitDeadline = guard.policy().fitDeadline();
        java.time.Duration deadline =
                perBar.toNanos() > fitDeadline.toNanos() / Math.max(1, frames.size())
                        ? fitDeadline
                        : perBar.multipliedBy(Math.max(1, frames.size()));
        return guard.call(
                descriptor.name(),
                "forecastBatch",
                deadline,
                () -> delegate.forecastBatch(frames),
                list -> {
                    if (list.size() != frames.size()) {
                        return "returned "
                                + list.size()
                                + " forecasts for "
                                + frames.size()
                                + " frames";
                    }
                    for (int i = 0; i < list.size(); i++) {
                        String problem =
                                list.get(i) == null
                                        ? "returned null for frame " + i
                                        : problem(list.get(i), frames.get(i));
                        if (problem != null) {
                            return problem;
                        }
                    }
                    return null;
                });
    }

    private String problem(Forecast f, FeatureFrame frame) {
        if (!f.barTime().equals(frame.bar().start())) {
            return "returned a forecast for bar "
                    + f.barTime()
                    + ", not the decision bar "
                    + frame.bar().start();
        }
        if (horizonBars != null && f.horizonBars() != horizonBars) {
            return "returned horizon "
                    + f.horizonBars()
                    + " bars; its capability declares horizon="
                    + horizonBars;
        }
        if (!f.source().equals(descriptor.name())) {
            return "returned source '" + f.source() + "', not its name '" + descriptor.name() + "'";
        }
        return null;
    }

    @Override
    public void fit(List<LabeledFrame> trainingWindow) {
        guard.fit(descriptor.name(), () -> delegate.fit(trainingWindow));
    }

    /**
     * The plugin's export, under the guard with the fit deadline; the result must name two files
     * that exist in {@code dir}. A source that does not override {@code exportModel} is answered
     * without calling the plugin (having no model is not a failure of the plugin).
     */
    @Override
    public List<java.nio.file.Path> exportModel(java.nio.file.Path dir) {
        boolean overridden;
        try {
            overridden =
                    delegate.getClass()
                                    .getMethod("exportModel", java.nio.file.Path.class)
                                    .getDeclaringClass()
                            != PredictionCapability.class;
        } catch (NoSuchMethodException e) {
            overridden = false;
        }
        if (!overridden) {
            throw new UnsupportedOperationException(
                    "prediction '" + descriptor.name() + "' has no model to export");
        }
        return guard.call(
                descriptor.name(),
                "exportModel",
                guard.policy().fitDeadline(),
                () -> delegate.exportModel(dir),
                files -> {
                    if (files == null || files.size() != 2) {
                        return "returned " + files + ", not [model file, sidecar]";
                    }
                    for (java.nio.file.Path f : files) {
                        if (!f.toAbsolutePath()
                                        .normalize()
                                        .getParent()
                                        .equals(dir.toAbsolutePath().normalize())
                                || !java.nio.file.Files.isRegularFile(f)) {
                            return "returned " + f + ", which is not a file it wrote in " + dir;
                        }
                    }
                    return null;
                });
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            guard.closeExtension(descriptor.name(), delegate);
            afterClose.run();
        }
    }

    @Override
    public Object delegate() {
        return delegate;
    }

    @Override
    public String pluginId() {
        return guard.pluginId();
    }

    @Override
    public String toString() {
        return "prediction '" + descriptor.name() + "' of plugin '" + guard.pluginId() + "'";
    }
}

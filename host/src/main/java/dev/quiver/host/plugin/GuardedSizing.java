package dev.quiver.host.plugin;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.sizing.OnlineCalibration;
import dev.quiver.api.sizing.ScoredOutcome;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.api.sizing.SizingOutcome;
import java.nio.file.Path;
import java.util.List;

/**
 * A plugin's sizing policy behind its {@link PluginGuard}: a fraction above the host's cap is
 * garbage (NaN, infinite and negative fractions cannot even be built). A policy that also
 * recalibrates online (plugins-api 1.4.0) is wrapped by {@link #of} as a {@link Calibrating}, which
 * passes {@link OnlineCalibration} through the same guard.
 */
class GuardedSizing implements SizingCapability, Guarded {

    private final SizingCapability delegate;
    private final PluginGuard guard;
    private final Runnable afterClose;
    private final java.util.concurrent.atomic.AtomicBoolean closed =
            new java.util.concurrent.atomic.AtomicBoolean();
    private final CapabilityDescriptor descriptor;

    GuardedSizing(SizingCapability delegate, PluginGuard guard) {
        this(delegate, guard, () -> {});
    }

    /**
     * The guarded policy: a {@link Calibrating} one when {@code delegate} implements {@link
     * OnlineCalibration}, so the engine sees exactly what the plugin implements.
     */
    static GuardedSizing of(SizingCapability delegate, PluginGuard guard, Runnable afterClose) {
        return delegate instanceof OnlineCalibration
                ? new Calibrating(delegate, guard, afterClose)
                : new GuardedSizing(delegate, guard, afterClose);
    }

    /**
     * A policy that recalibrates online: {@code observe} and {@code calibrate} are per-bar calls
     * under the plugin's guard; a calibrated probability outside [0, 1] is garbage.
     */
    static final class Calibrating extends GuardedSizing implements OnlineCalibration {

        private final OnlineCalibration calibration;

        Calibrating(SizingCapability delegate, PluginGuard guard, Runnable afterClose) {
            super(delegate, guard, afterClose);
            this.calibration = (OnlineCalibration) delegate;
            this.observeBody =
                    o -> {
                        calibration.observe(o);
                        return Boolean.TRUE;
                    };
        }

        /** The body of {@link #observe} (a per-bar call), built once. */
        private final PluginGuard.Body<ScoredOutcome, Boolean> observeBody;

        /** Rare (once per engine): on the plugin's pool in watchdog mode, with the fit deadline. */
        @Override
        public void reset() {
            guardOf()
                    .call(
                            descriptor().name(),
                            "reset",
                            guardOf().policy().fitDeadline(),
                            () -> {
                                calibration.reset();
                                return Boolean.TRUE;
                            },
                            ok -> null);
        }

        @Override
        public void observe(ScoredOutcome outcome) {
            guardOf()
                    .call(
                            descriptor().name(),
                            "observe",
                            guardOf().policy().deadline(),
                            outcome,
                            observeBody,
                            (o, ok) -> null);
        }

        @Override
        public double calibrate(double probabilityUp) {
            return guardOf()
                    .call(
                            descriptor().name(),
                            "calibrate",
                            guardOf().policy().deadline(),
                            () -> calibration.calibrate(probabilityUp),
                            p ->
                                    p >= 0 && p <= 1
                                            ? null
                                            : "calibrated probability "
                                                    + p
                                                    + " for "
                                                    + probabilityUp
                                                    + " is not in [0, 1]");
        }
    }

    PluginGuard guardOf() {
        return guard;
    }

    /** An instance of its own whose {@code afterClose} runs once, after the extension closed. */
    GuardedSizing(SizingCapability delegate, PluginGuard guard, Runnable afterClose) {
        this.afterClose = afterClose;
        this.delegate = delegate;
        this.guard = guard;
        this.descriptor = delegate.descriptor();
        this.deadline = guard.policy().deadline();
        this.sizeBody = delegate::size;
    }

    /** The per-bar deadline and the body of {@link #size}, built once. */
    private final java.time.Duration deadline;

    private final PluginGuard.Body<SizingContext, SizingDecision> sizeBody;

    /** A fraction above the context's cap is garbage. */
    private static final PluginGuard.Check<SizingContext, SizingDecision> SIZE_CHECK =
            (context, d) ->
                    d.fraction() > context.maxFraction()
                            ? "returned fraction "
                                    + d.fraction()
                                    + ", above the host cap "
                                    + context.maxFraction()
                            : null;

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    @Override
    public SizingDecision size(SizingContext context) {
        return guard.call(descriptor.name(), "size", deadline, context, sizeBody, SIZE_CHECK);
    }

    @Override
    public void fit(List<SizingOutcome> history) {
        guard.fit(descriptor.name(), () -> delegate.fit(history));
    }

    /**
     * The plugin's answer, asked on its thread under the guard. A plugin built against an api
     * before 1.3.0 gets the api's default: whether it overrides {@code fit}.
     */
    @Override
    public boolean hasFittedState() {
        return guard.call(
                descriptor.name(),
                "hasFittedState",
                guard.policy().deadline(),
                delegate::hasFittedState,
                ok -> null);
    }

    /**
     * The plugin's export, under the guard with the fit deadline; the result must start with {@code
     * <name>.state.json} and name only files that exist directly in {@code dir}. Without fitted
     * state, or when the plugin does not implement {@code exportState}, it is answered without
     * calling the plugin (not a failure of the plugin).
     */
    @Override
    public List<Path> exportState(Path dir) {
        checkImplemented("exportState");
        return guard.call(
                descriptor.name(),
                "exportState",
                guard.policy().fitDeadline(),
                () -> delegate.exportState(dir),
                files -> StateCalls.exportProblem(files, dir, descriptor.name()));
    }

    /**
     * The plugin's restore, under the guard with the fit deadline. A {@code BAD_STATE} refusal is
     * passed on as is and does not count towards quarantine (the files were bad, not the plugin).
     */
    @Override
    public void restoreState(Path dir) {
        checkImplemented("restoreState");
        guard.call(
                descriptor.name(),
                "restoreState",
                guard.policy().fitDeadline(),
                () -> {
                    delegate.restoreState(dir);
                    return Boolean.TRUE;
                },
                ok -> null);
    }

    private void checkImplemented(String method) {
        if (!hasFittedState()) {
            throw new UnsupportedOperationException(
                    "sizing '"
                            + descriptor.name()
                            + "' has no fitted state to "
                            + method.replace("State", ""));
        }
        if (!StateCalls.implemented(delegate, SizingCapability.class, method)) {
            throw new UnsupportedOperationException(
                    "sizing '"
                            + descriptor.name()
                            + "' of plugin '"
                            + guard.pluginId()
                            + "' learns in fit but does not implement "
                            + method
                            + " (plugins-api 1.3.0): its fitted state cannot be "
                            + (method.equals("exportState") ? "exported" : "restored"));
        }
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
        return "sizing '" + descriptor.name() + "' of plugin '" + guard.pluginId() + "'";
    }
}

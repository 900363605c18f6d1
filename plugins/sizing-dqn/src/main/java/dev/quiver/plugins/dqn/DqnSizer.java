package dev.quiver.plugins.dqn;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.onnxmodels.ModelRefusedException;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import org.pf4j.Extension;

/**
 * The DQN sizing agent: a deep Q-network (Mnih et al. 2015) trained by {@code mlflow/train/dqn.py}
 * on BTC-USD 4h 2019-01-01..2020-12-31 with the backtest's costs, served with ONNX Runtime. It
 * holds 0, 0.5 or 1.0 of equity (capped by the host), whichever action has the highest Q-value for
 * the state {@code [p_up, atr_pct_14, drawdown, payoff_ratio]}: the fused probability of an up
 * move, the decision bar's ATR over its close, the book's drawdown and the trailing payoff ratio,
 * all from the {@link SizingContext} (the api hands a sizing policy no other features and no
 * current position).
 *
 * <p>Rules before the network: the sizing contract's no-edge rule, flat when the Kelly edge {@code
 * p * b - (1 - p)} is not positive (applied in training too); flat on every bar up to the end of
 * its training span (descriptor {@code trained_through}), whatever the series, so that no reported
 * figure of it includes a bar it was trained on. The backtest report therefore compares it with the
 * other policies on the bars after that span ({@code later_bars}).
 *
 * <p>Stateless between calls (nothing is learnt in {@link #fit}: the network is trained in Python
 * and shipped in the plugin), deterministic, thread-safe (calls are serialised on the one ONNX
 * session).
 */
@Extension
public final class DqnSizer implements SizingCapability {

    private static final String NAME = "dqn";
    private static final String[] LABELS = {"flat", "half", "full"};

    private final DqnModel model;
    private final boolean guardSpan;
    private final double[] actions;
    private final CapabilityDescriptor descriptor;
    private boolean closed;

    /**
     * Creates the agent with the bundled model, or with the model whose sidecar {@code
     * sizing-dqn.dqn.model} names.
     *
     * @param context the plugin's context
     * @throws ModelRefusedException if the model or its sidecar is refused
     */
    @Inject
    public DqnSizer(PluginContext context) {
        this(
                context.config("dqn.model")
                        .map(p -> DqnModel.fromFiles(Path.of(p)))
                        .orElseGet(DqnModel::bundled),
                true);
    }

    /**
     * @param model the Q-network
     * @param guardSpan whether bars up to the end of the training span are refused (flat); only
     *     tests that probe the network on fixture bars inside the span turn it off
     */
    DqnSizer(DqnModel model, boolean guardSpan) {
        this.model = model;
        this.guardSpan = guardSpan;
        this.actions = model.actions();
        this.descriptor =
                new CapabilityDescriptor(
                        NAME,
                        "1.0.0",
                        Map.of(
                                "long-only", "true",
                                "actions", "0,0.5,1",
                                "trained_on", model.trainingSeries(),
                                "trained_from", model.trainedFrom().toString(),
                                "trained_through", model.trainedThrough().toString()));
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    /**
     * Sizes the position for the next bar.
     *
     * @param context the fused signal, the book and the market state
     * @return 0 on bars up to the training span's end or without a Kelly edge, else the action of
     *     highest Q-value, capped at {@code context.maxFraction()}; the inputs carry the state and
     *     the three Q-values
     * @throws CapabilityException if the network answers a non-finite Q-value
     * @throws IllegalStateException after {@link #close()}
     */
    @Override
    public synchronized SizingDecision size(SizingContext context) {
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] sizing 'dqn' was closed; create a new instance");
        }
        Instant bar = context.signal().barTime();
        double p = context.signal().probabilityUp();
        double b = context.payoffRatio();
        if (guardSpan && !bar.isAfter(model.trainedThrough())) {
            return new SizingDecision(
                    0,
                    "dqn: flat: bar "
                            + bar
                            + " is not after its training span (through "
                            + model.trainedThrough()
                            + "), where it is not evaluated",
                    Map.of("p", p));
        }
        if (!(p * b - (1 - p) > 0)) {
            return new SizingDecision(
                    0, "dqn: flat: no Kelly edge (p * b - (1 - p) <= 0)", Map.of("p", p, "b", b));
        }
        double[] state = {p, context.volatility(), context.drawdown(), b};
        float[] q = model.q(state);
        int best = 0;
        for (int a = 0; a < q.length; a++) {
            if (!Float.isFinite(q[a])) {
                throw new CapabilityException(
                        NAME, "Q-value " + a + " is " + q[a] + " at bar " + bar, null);
            }
            if (q[a] > q[best]) {
                best = a;
            }
        }
        double f = Math.min(actions[best], context.maxFraction());
        return new SizingDecision(
                f,
                String.format(
                        Locale.ROOT,
                        "dqn: %s (Q flat %.4f, half %.4f, full %.4f)%s",
                        LABELS[best],
                        q[0],
                        q[1],
                        q[2],
                        f < actions[best] ? ", capped by the host" : ""),
                Map.of(
                        "p",
                        p,
                        "atr_pct_14",
                        context.volatility(),
                        "drawdown",
                        context.drawdown(),
                        "b",
                        b,
                        "q_flat",
                        (double) q[0],
                        "q_half",
                        (double) q[1],
                        "q_full",
                        (double) q[2]));
    }

    /** Closes the ONNX session once no call is in flight. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            model.close();
        }
    }
}

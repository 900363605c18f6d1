package dev.quiver.plugins.kelly;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.sizing.PortfolioMember;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.PortfolioSizingContext;
import dev.quiver.api.sizing.PortfolioSizingDecision;
import dev.quiver.api.sizing.SizingDecision;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/**
 * Correlation-adjusted quarter-Kelly ({@code kelly_portfolio}), long only: every symbol of one
 * account sized together by the multivariate Kelly rule {@code f = 0.25 * inv(Sigma) * mu} ({@link
 * MultivariateKelly}: Merton 1969, Thorp 2006 section 7), so that two highly correlated long
 * positions share one bet's allocation and uncorrelated ones each get their own.
 *
 * <p>Per member: {@code p} is its calibrated fused probability of an up move, {@code b} its payoff
 * ratio, {@code g} its trailing mean gain per bar; the expected return per bar is {@code p g - (1 -
 * p) g / b = g * (p - (1 - p) / b)}, i.e. the mean gain times the single-asset full Kelly fraction,
 * scaled to the covariance's period by {@code barsPerCovariancePeriod}. {@code Sigma} is the host's
 * shrunk covariance. The long-only optimum is exact ({@link MultivariateKelly#longOnly}).
 *
 * <p>Then the caps in the context: each member clipped to {@code min(cap, context.maxFraction())},
 * and all scaled by one factor if their sum is above {@code grossCap}. The host's portfolio guard
 * adds its cluster, net and breaker limits after this.
 *
 * <p>Configuration: {@code sizing-kelly.multiplier} (default 0.25) and {@code sizing-kelly.cap}
 * (default 1.0), as for {@code kelly}.
 *
 * <p>Thread-safe and stateless: its fields are final settings and every call works on arrays of its
 * own, so one instance may size several accounts at once ({@code PortfolioKellySizerTest}). The
 * live service gives each portfolio account its own instance all the same, since the extension
 * point does not promise this of every policy.
 */
@Extension
public final class PortfolioKellySizer implements PortfolioSizingCapability {

    private final double multiplier;
    private final double cap;
    private final CapabilityDescriptor descriptor;

    /**
     * Reads multiplier and cap from the plugin configuration.
     *
     * @param context the host context
     * @throws QuiverInputException if a configured value is not a number in (0, 1]
     */
    @Inject
    public PortfolioKellySizer(PluginContext context) {
        this(KellySettings.of(context));
    }

    /**
     * @param multiplier fraction of full Kelly, in (0, 1]
     * @param cap largest position per symbol, fraction of equity, in (0, 1]
     * @throws QuiverInputException if a value is outside (0, 1]
     */
    public PortfolioKellySizer(double multiplier, double cap) {
        this(new KellySettings(multiplier, cap));
    }

    private PortfolioKellySizer(KellySettings settings) {
        this.multiplier = settings.multiplier();
        this.cap = settings.cap();
        this.descriptor = settings.descriptor("kelly_portfolio");
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Each decision's inputs: {@code p}, {@code b}, {@code mu} (expected return per covariance
     * period), {@code kelly_raw} (the multivariate allocation before any cap) and {@code fraction}.
     */
    @Override
    public PortfolioSizingDecision size(PortfolioSizingContext context) {
        List<PortfolioMember> members = context.members();
        int n = members.size();
        double[] mu = new double[n];
        for (int i = 0; i < n; i++) {
            PortfolioMember m = members.get(i);
            double full =
                    KellyMath.fullKelly(
                            m.context().signal().probabilityUp(), m.context().payoffRatio());
            mu[i] = m.meanGain() * full * m.barsPerCovariancePeriod();
        }
        double[] raw = MultivariateKelly.longOnly(mu, context.covariance(), multiplier);
        double[] f = new double[n];
        boolean[] clipped = new boolean[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double limit = Math.min(cap, members.get(i).context().maxFraction());
            clipped[i] = raw[i] > limit;
            f[i] = clipped[i] ? limit : raw[i];
            sum += f[i];
        }
        double scale = 1;
        if (sum > context.grossCap()) {
            scale = context.grossCap() / sum;
            double scaled;
            do {
                scaled = 0;
                for (double v : f) {
                    scaled += v * scale;
                }
                if (scaled > context.grossCap()) {
                    scale = Math.nextDown(scale);
                }
            } while (scaled > context.grossCap());
        }
        List<SizingDecision> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            PortfolioMember m = members.get(i);
            double p = m.context().signal().probabilityUp();
            double b = m.context().payoffRatio();
            double fraction = f[i] * scale;
            Map<String, Double> inputs =
                    Map.of("p", p, "b", b, "mu", mu[i], "kelly_raw", raw[i], "fraction", fraction);
            String reason;
            if (raw[i] == 0) {
                reason =
                        mu[i] > 0
                                ? "correlation-adjusted Kelly: covered by correlated members"
                                : "no edge: expected return <= 0";
            } else if (clipped[i] || scale < 1) {
                reason = "correlation-adjusted fractional Kelly capped";
            } else {
                reason = "correlation-adjusted fractional Kelly";
            }
            out.add(new SizingDecision(fraction, reason, inputs));
        }
        return new PortfolioSizingDecision(out);
    }
}

package dev.quiver.plugins.dqn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.SizingCapabilityContract;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The test kit's sizing contracts on the bundled Q-network (the fixture's bars lie in 2020, inside
 * the agent's training span, so the contracts run with the span guard off to reach the network),
 * the guard itself, and a leaky variant (it sizes from the newest context it has seen) caught by a
 * re-size check after {@code LookaheadCheck}'s idea, which the real agent passes.
 */
class DqnSizerTest implements SizingCapabilityContract {

    @Override
    public SizingCapability newSizing() {
        return new DqnSizer(DqnModel.bundled(), false);
    }

    private static SizingContext context(Instant bar, double p, double atr, double dd, double b) {
        FusedSignal s =
                new FusedSignal(
                        bar, p, Math.abs(2 * p - 1), 1, List.of(new SourceContribution("x", p, 1)));
        return new SizingContext(s, 10_000, dd, 1.0, atr, b);
    }

    @Test
    void throughThePluginContextBarsOfItsTrainingSpanAreFlatAndLaterOnesUseTheNetwork() {
        PluginContext plugin =
                new PluginContext() {
                    @Override
                    public String pluginId() {
                        return "sizing-dqn";
                    }

                    @Override
                    public Optional<String> config(String key) {
                        return Optional.empty();
                    }
                };
        try (var dqn = new DqnSizer(plugin)) {
            CapabilityDescriptor d = dqn.descriptor();
            assertThat(d.name()).isEqualTo("dqn");
            assertThat(d.attributes())
                    .containsEntry("trained_on", "btc-usd-4h")
                    .containsEntry("trained_from", "2019-01-01T00:00:00Z")
                    .containsEntry("trained_through", "2020-12-31T20:00:00Z");
            SizingDecision inSpan =
                    dqn.size(context(Instant.parse("2020-12-31T20:00:00Z"), 0.7, 0.02, 0, 1.5));
            assertThat(inSpan.fraction()).isZero();
            assertThat(inSpan.reason()).contains("not after its training span");
            SizingDecision after =
                    dqn.size(context(Instant.parse("2021-01-01T00:00:00Z"), 0.7, 0.02, 0, 1.5));
            assertThat(after.reason()).startsWith("dqn: ").contains("Q flat");
            assertThat(after.inputs()).containsKeys("q_flat", "q_half", "q_full");
        }
    }

    @Test
    void theNetworkChoosesMoreThanOneActionOverTheFixtureBars() {
        List<SizingContext> contexts = fixtureContexts();
        Map<Double, Integer> chosen = new HashMap<>();
        try (SizingCapability dqn = newSizing()) {
            for (SizingContext c : contexts) {
                chosen.merge(dqn.size(c).fraction(), 1, Integer::sum);
            }
        }
        System.out.println("dqn: fractions chosen on the fixture's bars 1..599: " + chosen);
        assertThat(chosen).containsKey(0.0);
        assertThat(chosen.keySet()).allMatch(f -> f == 0.0 || f == 0.5 || f == 1.0);
    }

    @Test
    void aLeakyVariantIsCaughtByReSizingEarlierBarsAndTheRealAgentIsNot() {
        List<SizingContext> contexts = fixtureContexts();
        int[] cuts = {50, 150, 300, 450, 590};
        List<Integer> real = differing(this::newSizing, contexts, cuts);
        List<Integer> leaky = differing(() -> new NewestContext(newSizing()), contexts, cuts);
        System.out.println("dqn re-size check: real differs at " + real + ", leaky at " + leaky);
        assertThat(real).isEmpty();
        assertThat(leaky).isNotEmpty();
    }

    private static List<SizingContext> fixtureContexts() {
        var fx = FixtureSeries.btcUsd4h();
        List<FeatureFrame> frames = new ArrayList<>();
        for (int t = 0; t < fx.size(); t++) {
            frames.add(fx.frame(t));
        }
        List<SizingContext> out = new ArrayList<>();
        for (int t = 1; t < fx.size(); t++) {
            out.add(SizingCapabilityContract.context(frames, t));
        }
        return out;
    }

    /** Sizes every context in order, then earlier ones again with the same instance. */
    private static List<Integer> differing(
            Supplier<SizingCapability> make, List<SizingContext> contexts, int[] cuts) {
        List<Integer> differ = new ArrayList<>();
        try (SizingCapability s = make.get()) {
            List<SizingDecision> full = new ArrayList<>();
            for (SizingContext c : contexts) {
                full.add(s.size(c));
            }
            for (int c : cuts) {
                if (!s.size(contexts.get(c)).equals(full.get(c))) {
                    differ.add(c);
                }
            }
        }
        return differ;
    }

    /** The leaky variant: keeps the newest context it was given and sizes that one instead. */
    private static final class NewestContext implements SizingCapability {
        private final SizingCapability real;
        private SizingContext newest;

        NewestContext(SizingCapability real) {
            this.real = real;
        }

        @Override
        public CapabilityDescriptor descriptor() {
            return real.descriptor();
        }

        @Override
        public SizingDecision size(SizingContext context) {
            if (newest == null || context.signal().barTime().isAfter(newest.signal().barTime())) {
                newest = context;
            }
            return real.size(newest);
        }

        @Override
        public void close() {
            real.close();
        }
    }
}

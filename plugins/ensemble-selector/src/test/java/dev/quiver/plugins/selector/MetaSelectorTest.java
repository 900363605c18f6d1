package dev.quiver.plugins.selector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.testkit.EnsembleCapabilityContract;
import dev.quiver.testkit.FixtureSeries;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetaSelectorTest implements EnsembleCapabilityContract {

    static final FixtureSeries FX = FixtureSeries.btcUsd4h();

    @Override
    public EnsembleCapability newEnsemble() {
        return new MetaSelector(250, 50, "regime");
    }

    static Forecast f(String source, Instant t, double p) {
        return new Forecast(source, t, 1, p, Map.of());
    }

    static Forecast regime(Instant t, int r) {
        return new Forecast("regime", t, 1, 0.5, Map.of("regime", (double) r));
    }

    /**
     * 200 rows: in trending-up (0) bars source {@code a} says 0.7 and is right 70% of the time and
     * {@code b} says 0.3; in ranging (2) bars it is the other way round.
     */
    static List<LabeledForecasts> regimeRows() {
        var rows = new ArrayList<LabeledForecasts>();
        Instant t0 = Instant.parse("2024-01-01T00:00:00Z");
        for (int i = 0; i < 200; i++) {
            Instant t = t0.plusSeconds(3600L * i);
            int r = i % 2 == 0 ? 0 : 2;
            boolean up = (i / 2) % 10 < 7; // 7 of every 10 rows of each regime are up
            double good = 0.7;
            double bad = 0.3;
            rows.add(
                    new LabeledForecasts(
                            t,
                            List.of(
                                    f("a", t, r == 0 ? good : bad),
                                    f("b", t, r == 0 ? bad : good),
                                    regime(t, r)),
                            r == 0 ? up : up));
        }
        return rows;
    }

    @Test
    void theWeightsAreTheBayesMixtureOfEachRegimesRecentLogLoss() {
        try (var s = new MetaSelector(250, 50, "regime")) {
            s.fit(regimeRows());
            FeatureFrame frame = FX.frame(FX.size() - 1);
            Instant t = frame.bar().start();
            // 100 rows per regime, 70 up: in regime 0, a's loss = 70 ln(1/0.7) + 30 ln(1/0.3),
            // b's = 70 ln(1/0.3) + 30 ln(1/0.7); the regime source's = 100 ln 2.
            double la = 70 * -Math.log(0.7) + 30 * -Math.log(0.3);
            double lb = 70 * -Math.log(0.3) + 30 * -Math.log(0.7);
            double lr = 100 * Math.log(2);
            double min = Math.min(la, Math.min(lb, lr));
            double wa = Math.exp(-(la - min));
            double wb = Math.exp(-(lb - min));
            double wr = Math.exp(-(lr - min));
            double sum = wa + wb + wr;
            FusedSignal up = s.fuse(List.of(f("a", t, 0.8), f("b", t, 0.4), regime(t, 0)), frame);
            assertThat(weight(up, "a")).isCloseTo(wa / sum, within(1e-12));
            assertThat(weight(up, "b")).isCloseTo(wb / sum, within(1e-12));
            assertThat(up.probabilityUp())
                    .isCloseTo((wa * 0.8 + wb * 0.4 + wr * 0.5) / sum, within(1e-12));
            assertThat(weight(up, "a")).isGreaterThan(0.99);
            // The same forecasts in the ranging regime: b takes the weight.
            FusedSignal ranging =
                    s.fuse(List.of(f("a", t, 0.8), f("b", t, 0.4), regime(t, 2)), frame);
            assertThat(weight(ranging, "b")).isGreaterThan(0.99);
            assertThat(ranging.probabilityUp()).isLessThan(0.41);
            // Without a regime (or in one with too few rows): all rows together, where a and b
            // tie, so each has half of what the coin-flipping regime source leaves.
            FusedSignal none = s.fuse(List.of(f("a", t, 0.8), f("b", t, 0.4)), frame);
            assertThat(weight(none, "a")).isCloseTo(0.5, within(1e-12));
            FusedSignal sparse =
                    s.fuse(List.of(f("a", t, 0.8), f("b", t, 0.4), regime(t, 3)), frame);
            assertThat(weight(sparse, "a")).isCloseTo(weight(sparse, "b"), within(1e-12));
        }
    }

    @Test
    void onlyTheLastWindowRowsOfARegimeCount() {
        // a was right in the old rows, b in the newest 20 of each regime: with a window of 20,
        // only the newest count (the regime source, a coin flip, may beat both: only a vs b is
        // asserted).
        var rows = new ArrayList<LabeledForecasts>();
        Instant t0 = Instant.parse("2024-01-01T00:00:00Z");
        for (int i = 0; i < 100; i++) {
            Instant t = t0.plusSeconds(3600L * i);
            boolean recent = i >= 60;
            rows.add(
                    new LabeledForecasts(
                            t,
                            List.of(
                                    f("a", t, recent ? 0.2 : 0.8),
                                    f("b", t, recent ? 0.8 : 0.2),
                                    regime(t, i % 2)),
                            true));
        }
        FeatureFrame frame = FX.frame(FX.size() - 1);
        Instant t = frame.bar().start();
        try (var s = new MetaSelector(20, 10, "regime")) {
            s.fit(rows);
            FusedSignal x = s.fuse(List.of(f("a", t, 0.6), f("b", t, 0.6), regime(t, 0)), frame);
            assertThat(weight(x, "b")).isGreaterThan(1000 * weight(x, "a"));
        }
        try (var s = new MetaSelector(100, 10, "regime")) {
            s.fit(rows);
            FusedSignal x = s.fuse(List.of(f("a", t, 0.6), f("b", t, 0.6), regime(t, 0)), frame);
            assertThat(weight(x, "a")).isGreaterThan(1000 * weight(x, "b"));
        }
    }

    static double weight(FusedSignal s, String source) {
        return s.contributions().stream()
                .filter(c -> c.source().equals(source))
                .mapToDouble(SourceContribution::weight)
                .findFirst()
                .orElseThrow();
    }
}

package dev.quiver.engine.portfolio;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.market.Bar;
import dev.quiver.api.sizing.PortfolioMember;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.PortfolioSizingContext;
import dev.quiver.api.sizing.PortfolioSizingDecision;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.trading.CostModel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The portfolio stepper that the backtest and the live portfolio accounts share: a book restored
 * from a snapshot mid-run (as a restarted service restores it) goes on exactly as the book that
 * never stopped; a bar of one member re-sizes the other; every allocation holds the caps.
 */
class PortfolioBookTest {

    static final Instant START = Instant.parse("2020-01-01T00:00:00Z");
    static final PortfolioLimits LIMITS = new PortfolioLimits(0.45, 0.8, 0.7, 0.5, 0.7);

    /** Asks {@code 4 (p - 0.5)} of each member with an edge, capped at its max fraction. */
    static final class Proportional implements PortfolioSizingCapability {
        @Override
        public CapabilityDescriptor descriptor() {
            return CapabilityDescriptor.of("proportional", "1.0.0");
        }

        @Override
        public PortfolioSizingDecision size(PortfolioSizingContext context) {
            List<SizingDecision> out = new ArrayList<>();
            for (PortfolioMember m : context.members()) {
                double p = m.context().signal().probabilityUp();
                double f = Math.min(m.context().maxFraction(), Math.max(0, 4 * (p - 0.5)));
                out.add(new SizingDecision(f, "proportional", Map.of("p", p)));
            }
            return new PortfolioSizingDecision(out);
        }
    }

    record Event(int member, int index, long close) {}

    static BarData walk(String symbol, Duration period, int n, long seed, double corrWith) {
        SplittableRandom rng = new SplittableRandom(seed);
        SplittableRandom common = new SplittableRandom(99);
        List<Bar> bars = new ArrayList<>();
        double price = 100;
        for (int i = 0; i < n; i++) {
            double z = corrWith * (common.nextDouble() - 0.5) + (rng.nextDouble() - 0.5);
            double open = price;
            price = price * (1 + 0.02 * z);
            bars.add(
                    new Bar(
                            START.plus(period.multipliedBy(i)),
                            open,
                            Math.max(open, price) * 1.001,
                            Math.min(open, price) * 0.999,
                            price,
                            1000));
        }
        return new BarData(symbol, period, bars);
    }

    static SizingContext context(SplittableRandom rng, Instant t) {
        double p = 0.42 + 0.25 * rng.nextDouble();
        return new SizingContext(
                new FusedSignal(t, p, Math.abs(2 * p - 1), 1, List.of()), 1, 0, 1, 0.01, 1.0);
    }

    static PortfolioBook book() {
        PortfolioBook b =
                new PortfolioBook(
                        new PortfolioBook.Settings(
                                10_000,
                                CostModel.DEFAULT,
                                new CircuitBreakers.Config(
                                        0.15,
                                        0.05,
                                        0,
                                        20,
                                        30,
                                        CircuitBreakers.DrawdownRearm.MANUAL),
                                LIMITS,
                                30,
                                0.02),
                        new Proportional());
        b.join("A", Duration.ofDays(1));
        b.join("B", Duration.ofHours(12));
        return b;
    }

    @Test
    void aRestoredBookGoesOnAsTheOneThatNeverStoppedAndBarsOfOneResizeTheOther() {
        BarData[] data = {
            walk("A", Duration.ofDays(1), 200, 1, 0), walk("B", Duration.ofHours(12), 400, 2, 2)
        };
        List<Event> events = new ArrayList<>();
        for (int j = 0; j < 2; j++) {
            for (int i = 0; i < data[j].size(); i++) {
                events.add(new Event(j, i, PointInTime.closeMillis(data[j], i)));
            }
        }
        events.sort(Comparator.comparingLong(Event::close).thenComparingInt(Event::member));
        SplittableRandom rng = new SplittableRandom(7);
        SizingContext[] contexts = new SizingContext[events.size()];
        for (int e = 0; e < contexts.length; e++) {
            contexts[e] = context(rng, Instant.ofEpochMilli(events.get(e).close()));
        }
        double[][] gains = {
            PortfolioBook.trailingMeanGain(data[0].close, 20),
            PortfolioBook.trailingMeanGain(data[1].close, 20)
        };

        PortfolioBook straight = book();
        PortfolioBook restored = null;
        int cut = events.size() / 2;
        SizingContext[] latest = new SizingContext[2];
        int decisions = 0;
        int otherResized = 0;
        double[] lastTarget = {Double.NaN, Double.NaN};
        for (int e = 0; e < events.size(); e++) {
            if (e == cut) {
                restored = book();
                restored.restore(straight.snapshot());
                for (int j = 0; j < 2; j++) {
                    Event lastOf = null;
                    for (int k = e - 1; k >= 0 && lastOf == null; k--) {
                        if (events.get(k).member() == j) {
                            lastOf = events.get(k);
                        }
                    }
                    restored.observe(j, latest[j], gains[j][lastOf.index()]);
                }
            }
            Event ev = events.get(e);
            int j = ev.member();
            latest[j] = contexts[e];
            PortfolioBook.Decision a = step(straight, data, ev, contexts[e], gains);
            if (restored != null) {
                PortfolioBook.Decision b = step(restored, data, ev, contexts[e], gains);
                assertThat(b == null).isEqualTo(a == null);
                if (a != null) {
                    assertThat(b.allocation()).as("event %d", e).containsExactly(a.allocation());
                    assertThat(b.targets()).containsExactly(a.targets());
                }
            }
            if (a != null) {
                decisions++;
                assertWithinCaps(a);
                int other = 1 - j;
                double t = a.targets()[other];
                if (a.symbols().contains(other == 0 ? "A" : "B")
                        && !Double.isNaN(lastTarget[other])
                        && t != lastTarget[other]) {
                    otherResized++;
                }
                lastTarget[0] = a.targets()[0];
                lastTarget[1] = a.targets()[1];
            }
        }
        PortfolioBook.State s1 = straight.snapshot();
        PortfolioBook.State s2 = restored.snapshot();
        assertThat(s2.cash()).isEqualTo(s1.cash());
        assertThat(s2.units()).containsExactly(s1.units());
        assertThat(s2.pnl()).containsExactly(s1.pnl());
        assertThat(s2.breakerEvents()).isEqualTo(s1.breakerEvents());
        assertThat(restored.equity()).isEqualTo(straight.equity());
        assertThat(decisions).isGreaterThan(events.size() / 2);
        assertThat(otherResized).as("a member's target moved by the other's bar").isPositive();
    }

    @Test
    void aFrozenMemberKeepsItsPositionIsNeverSizedAndCountsAgainstTheCapsUntilItLeaves() {
        BarData[] data = {
            walk("A", Duration.ofDays(1), 200, 1, 0), walk("B", Duration.ofHours(12), 400, 2, 2)
        };
        List<Event> events = new ArrayList<>();
        for (int j = 0; j < 2; j++) {
            for (int i = 0; i < data[j].size(); i++) {
                events.add(new Event(j, i, PointInTime.closeMillis(data[j], i)));
            }
        }
        events.sort(Comparator.comparingLong(Event::close).thenComparingInt(Event::member));
        double[][] gains = {
            PortfolioBook.trailingMeanGain(data[0].close, 20),
            PortfolioBook.trailingMeanGain(data[1].close, 20)
        };
        SplittableRandom rng = new SplittableRandom(7);
        PortfolioBook book = book();
        int e = 0;
        // until A holds a position
        for (; e < events.size() && !(book.weight(0) > 0.05); e++) {
            Event ev = events.get(e);
            step(book, data, ev, context(rng, Instant.ofEpochMilli(ev.close())), gains);
        }
        assertThat(book.weight(0)).as("A holds a position before the freeze").isGreaterThan(0.05);
        double units = book.snapshot().units()[0];
        book.freeze(0, "session quarantined: replay failed");
        assertThat(book.snapshot().pending()[0]).isNaN();
        int decisions = 0;
        for (; e < events.size(); e++) {
            Event ev = events.get(e);
            PortfolioBook.Decision d =
                    step(book, data, ev, context(rng, Instant.ofEpochMilli(ev.close())), gains);
            assertThat(book.snapshot().units()[0]).as("A's units at event %d", e).isEqualTo(units);
            assertThat(book.snapshot().pending()[0]).isNaN();
            if (d != null) {
                decisions++;
                assertThat(d.symbols()).doesNotContain("A");
                assertThat(d.targets()[0]).isZero();
                assertThat(d.ordered()[0]).isFalse();
                assertThat(d.frozen())
                        .singleElement()
                        .asString()
                        .startsWith("A frozen at weight ")
                        .endsWith(": session quarantined: replay failed");
                double frozenWeight = weightAt(d);
                double gross = frozenWeight;
                for (double f : d.allocation()) {
                    gross += f;
                }
                assertThat(gross)
                        .as("open allocation + frozen weight at event %d", e)
                        .isLessThanOrEqualTo(LIMITS.grossCap() + 1e-12);
            }
        }
        assertThat(decisions).isPositive();
        double cash = book.snapshot().cash();
        book.leave(0);
        assertThat(book.snapshot().units()[0]).isZero();
        assertThat(book.done(0)).isTrue();
        assertThat(book.frozen(0)).isNull();
        assertThat(book.snapshot().cash()).isGreaterThan(cash);
    }

    /**
     * The running-sum mean gain over the whole close array, as the engine computed it before the
     * accumulator (the reference its ring of {@code window + 2} closes must equal bit for bit).
     */
    static double[] runningSumMeanGain(double[] close, int window) {
        double[] out = new double[close.length];
        double sum = 0;
        int count = 0;
        for (int t = 1; t < close.length; t++) {
            double r = close[t] / close[t - 1] - 1;
            if (r > 0) {
                sum += r;
                count++;
            }
            int drop = t - window;
            if (drop >= 1) {
                double old = close[drop] / close[drop - 1] - 1;
                if (old > 0) {
                    sum -= old;
                    count--;
                }
            }
            out[t] = count > 0 ? Math.max(0, sum / count) : 0;
        }
        return out;
    }

    @Test
    void theIncrementalMeanGainIsTheBatchOneBitForBit() {
        for (long seed = 1; seed <= 3; seed++) {
            BarData d = walk("A", Duration.ofHours(4), 3_000, seed, 0);
            for (int window : new int[] {1, 20, 250}) {
                double[] batch = runningSumMeanGain(d.close, window);
                assertThat(PortfolioBook.trailingMeanGain(d.close, window))
                        .as("the batch method, seed %d window %d", seed, window)
                        .containsExactly(batch);
                TrailingMeanGain acc = new TrailingMeanGain(window);
                long[] got = new long[d.size()];
                long[] want = new long[d.size()];
                for (int t = 0; t < d.size(); t++) {
                    got[t] = Double.doubleToRawLongBits(acc.add(d.close[t]));
                    want[t] = Double.doubleToRawLongBits(batch[t]);
                }
                assertThat(got).as("seed %d window %d", seed, window).containsExactly(want);
                assertThat(acc.value()).isEqualTo(batch[d.size() - 1]);
            }
        }
    }

    /** The frozen member's weight a decision counted, read back from its provenance line. */
    static double weightAt(PortfolioBook.Decision d) {
        String line = d.frozen().get(0);
        return Double.parseDouble(
                line.substring("A frozen at weight ".length(), line.indexOf(':')));
    }

    static PortfolioBook.Decision step(
            PortfolioBook book, BarData[] data, Event ev, SizingContext ctx, double[][] gains) {
        int j = ev.member();
        book.open(j, data[j].open[ev.index()]);
        return book.close(
                j,
                ev.close(),
                data[j].close[ev.index()],
                ctx,
                gains[j][ev.index()],
                false,
                i -> data[i]);
    }

    static void assertWithinCaps(PortfolioBook.Decision d) {
        double gross = 0;
        for (double f : d.allocation()) {
            assertThat(f).isBetween(0.0, LIMITS.perSymbolCap());
            gross += f;
        }
        assertThat(gross).isLessThanOrEqualTo(Math.min(LIMITS.grossCap(), LIMITS.netCap()));
        for (String b : d.binding()) {
            assertThat(b).matches("(per_symbol [AB]|cluster \\[A, B\\]|gross|net|breaker .*)");
        }
    }
}

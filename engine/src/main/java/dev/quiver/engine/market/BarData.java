package dev.quiver.engine.market;

import dev.quiver.api.market.Bar;
import dev.quiver.api.market.BarSeries;
import java.time.Duration;
import java.util.List;

/**
 * An immutable, validated series of bars held in primitive arrays for the backtest's hot path, with
 * O(1) point-in-time views for plugins.
 *
 * <p>Arrays are indexed by bar, 0 the oldest; {@code startMillis} is the bar open time in epoch
 * milliseconds (UTC). Callers must not modify the arrays.
 */
public final class BarData {

    private final String symbol;
    private final Duration period;
    private final Bar[] bars;
    public final long[] startMillis;
    public final double[] open;
    public final double[] high;
    public final double[] low;
    public final double[] close;
    public final double[] volume;

    /**
     * @param symbol data-set or symbol name, e.g. {@code btc-usd-4h}
     * @param period nominal bar period
     * @param bars validated bars in strictly increasing time order
     */
    public BarData(String symbol, Duration period, List<Bar> bars) {
        this.symbol = symbol;
        this.period = period;
        this.bars = bars.toArray(Bar[]::new);
        int n = this.bars.length;
        startMillis = new long[n];
        open = new double[n];
        high = new double[n];
        low = new double[n];
        close = new double[n];
        volume = new double[n];
        for (int i = 0; i < n; i++) {
            Bar b = this.bars[i];
            if (i > 0 && !b.start().isAfter(this.bars[i - 1].start())) {
                throw new IllegalArgumentException(
                        "bars must be in strictly increasing time order; bar "
                                + i
                                + " at "
                                + b.start()
                                + " is not after "
                                + this.bars[i - 1].start());
            }
            startMillis[i] = b.start().toEpochMilli();
            open[i] = b.open();
            high[i] = b.high();
            low[i] = b.low();
            close[i] = b.close();
            volume[i] = b.volume();
        }
    }

    public String symbol() {
        return symbol;
    }

    public Duration period() {
        return period;
    }

    public int size() {
        return bars.length;
    }

    public Bar bar(int index) {
        return bars[index];
    }

    /**
     * The bars as a list.
     *
     * @return an unmodifiable list, oldest first
     */
    public List<Bar> toList() {
        return List.of(bars);
    }

    /**
     * The first {@code size} bars as a new data set (a series that ends earlier), used to prove
     * that nothing downstream looks ahead.
     *
     * @param size number of bars to keep, in {@code [0, size()]}
     * @return a truncated copy
     */
    public BarData truncate(int size) {
        return new BarData(symbol, period, List.of(bars).subList(0, size));
    }

    /**
     * A point-in-time view ending at {@code lastIndex}: bars after it are unreachable.
     *
     * @param lastIndex index of the decision bar, in {@code [0, size())}
     * @return a read-only view of bars {@code [0, lastIndex]}
     */
    public BarSeries viewThrough(int lastIndex) {
        if (lastIndex < 0 || lastIndex >= bars.length) {
            throw new IndexOutOfBoundsException(
                    "view end " + lastIndex + " outside [0, " + bars.length + ")");
        }
        return new View(lastIndex + 1);
    }

    private final class View implements BarSeries {
        private final int size;

        View(int size) {
            this.size = size;
        }

        @Override
        public String symbol() {
            return symbol;
        }

        @Override
        public Duration period() {
            return period;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public Bar get(int index) {
            if (index < 0 || index >= size) {
                throw new IndexOutOfBoundsException(
                        "bar "
                                + index
                                + " is outside this point-in-time view [0, "
                                + size
                                + "): no look-ahead");
            }
            return bars[index];
        }
    }
}

package dev.quiver.engine.session;

import dev.quiver.api.market.Bar;
import dev.quiver.api.market.BarSeries;
import java.time.Duration;
import java.util.Arrays;

/**
 * A series that grows one bar at a time, with point-in-time views: a view taken through bar {@code
 * i} never reaches a later bar, even after more bars are appended. Single writer; views may be read
 * from other threads once handed over (appends never change an element a view can reach).
 */
final class GrowingSeries {

    private final String symbol;
    private final Duration period;
    private volatile Bar[] bars = new Bar[1024];
    private int size;

    GrowingSeries(String symbol, Duration period) {
        this.symbol = symbol;
        this.period = period;
    }

    void add(Bar bar) {
        Bar[] b = bars;
        if (size == b.length) {
            b = Arrays.copyOf(b, b.length * 2);
        }
        b[size++] = bar;
        bars = b;
    }

    int size() {
        return size;
    }

    Bar last() {
        return size == 0 ? null : bars[size - 1];
    }

    /** A view of bars {@code [0, lastIndex]}. */
    BarSeries viewThrough(int lastIndex) {
        if (lastIndex < 0 || lastIndex >= size) {
            throw new IndexOutOfBoundsException(
                    "view end " + lastIndex + " outside [0, " + size + ")");
        }
        return new View(bars, lastIndex + 1);
    }

    private final class View implements BarSeries {
        private final Bar[] snapshot;
        private final int size;

        View(Bar[] snapshot, int size) {
            this.snapshot = snapshot;
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
            return snapshot[index];
        }
    }
}

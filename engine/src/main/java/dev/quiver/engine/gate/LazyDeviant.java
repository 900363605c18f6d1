package dev.quiver.engine.gate;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * {@link Dissimilarity#mostDeviant} of one row, worked out when the list is first read: most bars
 * pass the gate, and a backtest never reads the names of a bar that passed (a live session shows
 * them with every verdict). Immutable (the row is the gate's own copy); each thread that reads it
 * first may work the names out, the same ones.
 */
final class LazyDeviant extends AbstractList<String> implements RandomAccess {
    private final Dissimilarity distribution;
    private final double[] row;
    private final int[] idx;
    private final int count;
    private volatile List<String> names;

    LazyDeviant(Dissimilarity distribution, double[] row, int[] idx, int count) {
        this.distribution = distribution;
        this.row = row;
        this.idx = idx;
        this.count = count;
    }

    private List<String> names() {
        List<String> n = names;
        if (n == null) {
            n = List.copyOf(distribution.mostDeviant(row, idx, count));
            names = n;
        }
        return n;
    }

    @Override
    public String get(int index) {
        return names().get(index);
    }

    @Override
    public int size() {
        return names().size();
    }
}

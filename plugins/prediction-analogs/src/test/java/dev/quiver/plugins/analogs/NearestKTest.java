package dev.quiver.plugins.analogs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NearestKTest {

    /** The first k of a stable sort of all indices by distance: what the selection must equal. */
    static int[] bySort(double[] distance, int k) {
        Integer[] order = new Integer[distance.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(distance[a], distance[b]));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = order[i];
        }
        return out;
    }

    @Test
    void equalsTheFirstKOfAStableSortIncludingTies() {
        var rng = new SplittableRandom(7);
        for (int trial = 0; trial < 2_000; trial++) {
            int n = 1 + rng.nextInt(120);
            int k = 1 + rng.nextInt(n);
            double[] d = new double[n];
            // few distinct values: many ties, which go to the lower index
            int levels = 1 + rng.nextInt(8);
            for (int i = 0; i < n; i++) {
                d[i] = rng.nextInt(levels) * 0.5;
            }
            if (trial % 3 == 0) {
                for (int i = 0; i < n; i++) {
                    d[i] = rng.nextDouble();
                }
            }
            assertThat(NearestK.select(d, k))
                    .as("n=%d k=%d %s", n, k, Arrays.toString(d))
                    .containsExactly(bySort(d, k));
        }
    }

    @Test
    void allEqualDistancesKeepTheMostRecentFirst() {
        assertThat(NearestK.select(new double[] {1, 1, 1, 1, 1}, 3)).containsExactly(0, 1, 2);
        assertThat(NearestK.select(new double[] {3, 2, 1}, 3)).containsExactly(2, 1, 0);
        assertThat(NearestK.select(new double[] {0.0, 2, 0.0, 1}, 1)).containsExactly(0);
    }

    @Test
    void kOutsideTheCandidatesIsRefused() {
        assertThatThrownBy(() -> NearestK.select(new double[3], 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("k must be in [1, 3] (the number of candidates), was 4");
        assertThatThrownBy(() -> NearestK.select(new double[3], 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}

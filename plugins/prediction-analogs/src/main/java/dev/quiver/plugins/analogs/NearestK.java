package dev.quiver.plugins.analogs;

/**
 * Partial selection of the {@code k} smallest distances without sorting them all: a bounded
 * max-heap of the {@code k} best seen so far (each candidate compared with the worst kept; {@code
 * O(n log k)}), then a heap sort of those {@code k}. The order is {@code Double.compare} on the
 * distance, ties broken by the lower index, so the result is exactly the first {@code k} of a
 * stable sort of all indices by distance.
 */
final class NearestK {

    private NearestK() {}

    /**
     * The indices of the {@code k} smallest distances, smallest first.
     *
     * @param distance one distance per candidate
     * @param k how many, in {@code [1, distance.length]}
     * @return {@code k} indices into {@code distance}, ordered by (distance, index)
     * @throws IllegalArgumentException if {@code k} is outside that range
     */
    static int[] select(double[] distance, int k) {
        int n = distance.length;
        if (k < 1 || k > n) {
            throw new IllegalArgumentException(
                    "k must be in [1, " + n + "] (the number of candidates), was " + k);
        }
        int[] heap = new int[k]; // heap[0] is the worst of the k kept
        for (int i = 0; i < k; i++) {
            heap[i] = i;
            siftUp(heap, i, distance);
        }
        for (int i = k; i < n; i++) {
            if (before(distance, i, heap[0])) {
                heap[0] = i;
                siftDown(heap, 0, k, distance);
            }
        }
        // heap sort: move the worst to the end, shrink, repeat
        for (int end = k - 1; end > 0; end--) {
            int worst = heap[0];
            heap[0] = heap[end];
            heap[end] = worst;
            siftDown(heap, 0, end, distance);
        }
        return heap;
    }

    /** Whether candidate {@code a} comes before {@code b}: nearer, or as near and more recent. */
    private static boolean before(double[] distance, int a, int b) {
        int c = Double.compare(distance[a], distance[b]);
        return c < 0 || (c == 0 && a < b);
    }

    private static void siftUp(int[] heap, int i, double[] distance) {
        int x = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(distance, heap[parent], x)) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = x;
    }

    private static void siftDown(int[] heap, int i, int size, double[] distance) {
        int x = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && before(distance, heap[child], heap[child + 1])) {
                child++;
            }
            if (!before(distance, x, heap[child])) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = x;
    }
}

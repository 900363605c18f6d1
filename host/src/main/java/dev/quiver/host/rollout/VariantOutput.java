package dev.quiver.host.rollout;

/**
 * What one variant said for one routing key at one bar.
 *
 * @param probabilityUp a prediction variant's probability of an up move over the next bar, in
 *     {@code [0, 1]}; null for a sizing variant
 * @param position the position the variant would hold over the next bar, fraction of equity in
 *     {@code [0, 1]} (a prediction holds 1 when {@code probabilityUp > 0.5}, else 0)
 */
public record VariantOutput(Double probabilityUp, double position) {

    /**
     * Validates.
     *
     * @throws IllegalArgumentException if the probability or the position is not finite or outside
     *     {@code [0, 1]}
     */
    public VariantOutput {
        if (probabilityUp != null && !(probabilityUp >= 0 && probabilityUp <= 1)) {
            throw new IllegalArgumentException(
                    "probabilityUp must be in [0, 1], was " + probabilityUp);
        }
        if (!(position >= 0 && position <= 1)) {
            throw new IllegalArgumentException("position must be in [0, 1], was " + position);
        }
    }

    /**
     * A prediction's output: its probability and the long-only directional position.
     *
     * @param probabilityUp in {@code [0, 1]}
     * @return the output, position 1 when {@code probabilityUp > 0.5}, else 0
     */
    public static VariantOutput forecast(double probabilityUp) {
        return new VariantOutput(probabilityUp, probabilityUp > 0.5 ? 1 : 0);
    }

    /**
     * A sizing policy's output.
     *
     * @param fraction fraction of equity, in {@code [0, 1]}
     * @return the output
     */
    public static VariantOutput sizing(double fraction) {
        return new VariantOutput(null, fraction);
    }
}

package dev.quiver.engine.gate;

import java.util.List;

/**
 * What the {@link InputGate} found on one decision bar.
 *
 * @param abstain whether the bar's decisions abstain (every policy flat, {@link #reason})
 * @param reason why, one line naming each check that failed with its figure and limit, ending in
 *     {@code -> flat}; {@code null} when the bar passes
 * @param distance the feature vector's Mahalanobis distance to the training distribution
 *     (dimensionless, in standard deviations of the shrunk training covariance), or NaN when the
 *     distribution check is off
 * @param threshold the distance above which the gate abstains, or NaN when the check is off
 * @param deviant the features furthest from their training mean, most deviant first, each as {@code
 *     name z=+5.20} (standard scores of the training span); empty when the check is off
 * @param gapBars bar intervals between the previous bar's start and this bar's, NaN without a
 *     previous bar
 * @param moveAtr this bar's true range in multiples of the previous bar's ATR(14), NaN without a
 *     previous ATR
 * @param distributionOff why the distribution check is off, or {@code null} when it is on
 */
public record GateVerdict(
        boolean abstain,
        String reason,
        double distance,
        double threshold,
        List<String> deviant,
        double gapBars,
        double moveAtr,
        String distributionOff) {

    /** Copies the list (the gate's own names, worked out when first read, are kept as they are). */
    public GateVerdict {
        deviant = deviant instanceof LazyDeviant ? deviant : List.copyOf(deviant);
    }
}

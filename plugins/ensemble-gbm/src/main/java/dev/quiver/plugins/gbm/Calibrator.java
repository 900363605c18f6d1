package dev.quiver.plugins.gbm;

/** A monotone map from a raw probability to a calibrated one, fitted out-of-fold. */
interface Calibrator {

    /**
     * Calibrates.
     *
     * @param p raw probability in [0, 1]
     * @return calibrated probability in [0, 1]
     */
    double apply(double p);

    /**
     * One line for provenance, e.g. {@code Platt a=0.91 b=-0.02}.
     *
     * @return the description
     */
    String describe();
}

package dev.quiver.plugins.gbm;

import dev.quiver.gbmtrees.TreeEnsemble;
import java.util.Locale;

/**
 * Platt scaling: {@code p' = sigmoid(a * logit(p) + b)}, the two parameters fitted by logistic
 * regression of the outcomes on the logit of the raw probabilities (J. Platt, "Probabilistic
 * Outputs for Support Vector Machines", 1999). With a weak signal and calibration sets of a few
 * hundred to a thousand rows, two parameters overfit far less than isotonic regression's step
 * function (A. Niculescu-Mizil and R. Caruana, "Predicting Good Probabilities with Supervised
 * Learning", ICML 2005), which is why the stack uses it by default.
 *
 * <p>Immutable.
 */
final class PlattCalibration implements Calibrator {

    private final LogisticRegression fit;

    private PlattCalibration(LogisticRegression fit) {
        this.fit = fit;
    }

    /**
     * Fits.
     *
     * @param scores raw probabilities, in (0, 1)
     * @param up outcomes
     * @param ridge L2 penalty on the slope
     * @return the calibration
     */
    static PlattCalibration fit(double[] scores, boolean[] up, double ridge) {
        double[][] x = new double[scores.length][];
        for (int i = 0; i < scores.length; i++) {
            x[i] = new double[] {StackEnsemble.logit(scores[i])};
        }
        return new PlattCalibration(LogisticRegression.fit(x, up, ridge));
    }

    /**
     * The calibration with slope {@code a} and intercept {@code b} (a restored state): applies
     * exactly as the fitted one they were read from.
     */
    static PlattCalibration of(double a, double b) {
        return new PlattCalibration(LogisticRegression.of(new double[] {b, a}));
    }

    @Override
    public double apply(double p) {
        return TreeEnsemble.sigmoid(fit.margin(new double[] {StackEnsemble.logit(p)}));
    }

    /** Slope {@code a} on {@code logit(p)}. */
    double slope() {
        return fit.coefficient(0);
    }

    /** Intercept {@code b}. */
    double intercept() {
        return fit.intercept();
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "Platt a=%.4f b=%.4f", slope(), intercept());
    }
}

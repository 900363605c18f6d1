package dev.quiver.engine.fusion;

/**
 * Platt scaling of a probability: {@code p' = sigmoid(a * logit(p) + b)}, with {@code (a, b)}
 * fitted by logistic regression of the binary outcome on {@code logit(p)}.
 *
 * <p>Fit: Newton-Raphson on the negative log-likelihood plus a small L2 ridge {@code (lambda / 2) *
 * ((a - 1)^2 + b^2)} that pulls towards the identity calibration {@code (1, 0)}, for stability on
 * separable or tiny samples; a step that does not lower the objective is halved. J. C. Platt,
 * "Probabilistic Outputs for Support Vector Machines and Comparisons to Regularized Likelihood
 * Methods" (1999), applied here to a forecaster's logit instead of an SVM margin.
 *
 * <p>Immutable.
 *
 * @param a slope on {@code logit(p)}; 1 is the identity
 * @param b intercept; 0 is the identity
 */
public record PlattScaling(double a, double b) {

    /** The identity calibration. */
    public static final PlattScaling IDENTITY = new PlattScaling(1.0, 0.0);

    /** Inputs are clipped to {@code [EPS, 1 - EPS]} before the logit, so 0 and 1 stay finite. */
    public static final double EPS = 1e-9;

    public static final double DEFAULT_RIDGE = 1e-3;

    /**
     * Calibrates one probability.
     *
     * @param p raw probability in {@code [0, 1]}
     * @return calibrated probability in {@code [0, 1]}
     */
    public double apply(double p) {
        return sigmoid(a * logit(p) + b);
    }

    /**
     * Fits {@code (a, b)} on {@code n} raw probabilities and outcomes.
     *
     * @param p raw probabilities, in {@code [0, 1]}
     * @param up outcomes, same length
     * @param ridge L2 penalty towards the identity, {@code >= 0}
     * @return the fitted scaling
     */
    public static PlattScaling fit(double[] p, boolean[] up, double ridge) {
        int n = p.length;
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = logit(p[i]);
        }
        double a = 1.0;
        double b = 0.0;
        double loss = objective(x, up, a, b, ridge);
        for (int iter = 0; iter < 100; iter++) {
            double ga = ridge * (a - 1.0);
            double gb = ridge * b;
            double haa = ridge;
            double hab = 0.0;
            double hbb = ridge;
            for (int i = 0; i < n; i++) {
                double s = sigmoid(a * x[i] + b);
                double r = s - (up[i] ? 1.0 : 0.0);
                double w = s * (1.0 - s);
                ga += r * x[i];
                gb += r;
                haa += w * x[i] * x[i];
                hab += w * x[i];
                hbb += w;
            }
            double det = haa * hbb - hab * hab;
            if (!(Math.abs(det) > 1e-300)) {
                break;
            }
            double da = (hbb * ga - hab * gb) / det;
            double db = (haa * gb - hab * ga) / det;
            double step = 1.0;
            double na = a - da;
            double nb = b - db;
            double nl = objective(x, up, na, nb, ridge);
            while (!(nl <= loss) && step > 1e-8) {
                step /= 2;
                na = a - step * da;
                nb = b - step * db;
                nl = objective(x, up, na, nb, ridge);
            }
            if (!(nl <= loss)) {
                break;
            }
            boolean converged = Math.abs(na - a) + Math.abs(nb - b) < 1e-10;
            a = na;
            b = nb;
            loss = nl;
            if (converged) {
                break;
            }
        }
        return new PlattScaling(a, b);
    }

    private static double objective(double[] x, boolean[] up, double a, double b, double ridge) {
        double sum = 0.5 * ridge * ((a - 1.0) * (a - 1.0) + b * b);
        for (int i = 0; i < x.length; i++) {
            double z = a * x[i] + b;
            // -log sigmoid(z) = log(1 + e^-z), computed stably
            sum += up[i] ? softplus(-z) : softplus(z);
        }
        return sum;
    }

    private static double softplus(double z) {
        return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    }

    public static double logit(double p) {
        double q = Math.min(1 - EPS, Math.max(EPS, p));
        return Math.log(q / (1 - q));
    }

    public static double sigmoid(double z) {
        return z >= 0 ? 1.0 / (1.0 + Math.exp(-z)) : Math.exp(z) / (1.0 + Math.exp(z));
    }
}

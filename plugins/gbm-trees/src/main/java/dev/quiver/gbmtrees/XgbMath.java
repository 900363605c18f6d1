package dev.quiver.gbmtrees;

/**
 * XGBoost's float32 arithmetic for {@code binary:logistic}, reproduced in Java so that the trees
 * evaluated here give the library's values bit for bit.
 *
 * <ul>
 *   <li>{@link #baseMargin}: {@code -logf(1.0f / base_score - 1.0f)} ({@code
 *       LogisticRegression::ProbToMargin}, {@code src/objective/regression_loss.h}, XGBoost 2.1).
 *   <li>{@link #sigmoid}: {@code 1.0f / (expf(min(-x, 88.7f)) + 1.0f + 1e-16f)} ({@code
 *       common::Sigmoid(float)}, {@code src/common/math.h}).
 * </ul>
 *
 * <p>XGBoost's native library calls the C library's {@code logf} and {@code expf}; on Linux that is
 * glibc (2.28 and later), whose single-precision functions come from ARM's optimized-routines
 * ({@code math/logf.c}, {@code math/expf.c}, MIT / Apache-2.0). {@link #logf} and {@link #expf} are
 * those algorithms (same tables, same polynomials, double arithmetic), because neither is correctly
 * rounded: {@code (float) Math.log} differs from glibc's {@code logf} on many inputs, and {@code
 * (float) Math.exp} from its {@code expf} on a few (one margin of the real-data test, {@code
 * 0.27383295f}, gave a probability one ulp away from XGBoost's). glibc on x86-64 runs an FMA build
 * of the same code where the CPU has FMA; its double results differ from these in the last bits at
 * most, which the final rounding to float absorbs (for {@code expf}, no difference between the two
 * on 8.5 million floats sampled in [-20, 20]).
 */
final class XgbMath {

    private XgbMath() {}

    private static final int LOGF_TABLE_BITS = 4;
    private static final int LOGF_N = 1 << LOGF_TABLE_BITS;
    private static final int LOGF_OFF = 0x3f330000;

    /** {@code __logf_data.tab[i].invc} (optimized-routines {@code math/logf_data.c}). */
    private static final double[] INVC = {
        0x1.661ec79f8f3bep+0,
        0x1.571ed4aaf883dp+0,
        0x1.49539f0f010bp+0,
        0x1.3c995b0b80385p+0,
        0x1.30d190c8864a5p+0,
        0x1.25e227b0b8eap+0,
        0x1.1bb4a4a1a343fp+0,
        0x1.12358f08ae5bap+0,
        0x1.0953f419900a7p+0,
        0x1p+0,
        0x1.e608cfd9a47acp-1,
        0x1.ca4b31f026aap-1,
        0x1.b2036576afce6p-1,
        0x1.9c2d163a1aa2dp-1,
        0x1.886e6037841edp-1,
        0x1.767dcf5534862p-1
    };

    /** {@code __logf_data.tab[i].logc}. */
    private static final double[] LOGC = {
        -0x1.57bf7808caadep-2,
        -0x1.2bef0a7c06ddbp-2,
        -0x1.01eae7f513a67p-2,
        -0x1.b31d8a68224e9p-3,
        -0x1.6574f0ac07758p-3,
        -0x1.1aa2bc79c81p-3,
        -0x1.a4e76ce8c0e5ep-4,
        -0x1.1973c5a611cccp-4,
        -0x1.252f438e10c1ep-5,
        0x0p+0,
        0x1.aa5aa5df25984p-5,
        0x1.c5e53aa362eb4p-4,
        0x1.526e57720db08p-3,
        0x1.bc2860d22477p-3,
        0x1.1058bc8a07ee1p-2,
        0x1.4043057b6ee09p-2
    };

    private static final int EXP2F_TABLE_BITS = 5;
    private static final int EXP2F_N = 1 << EXP2F_TABLE_BITS;

    /**
     * {@code __exp2f_data.tab} for N = 32 (optimized-routines {@code math/exp2f_data.c}): {@code
     * tab[i] = uint(2^(i/N)) - (i << 52-BITS)}.
     */
    private static final long[] EXP2F_TAB = {
        0x3ff0000000000000L, 0x3fefd9b0d3158574L, 0x3fefb5586cf9890fL, 0x3fef9301d0125b51L,
        0x3fef72b83c7d517bL, 0x3fef54873168b9aaL, 0x3fef387a6e756238L, 0x3fef1e9df51fdee1L,
        0x3fef06fe0a31b715L, 0x3feef1a7373aa9cbL, 0x3feedea64c123422L, 0x3feece086061892dL,
        0x3feebfdad5362a27L, 0x3feeb42b569d4f82L, 0x3feeab07dd485429L, 0x3feea47eb03a5585L,
        0x3feea09e667f3bcdL, 0x3fee9f75e8ec5f74L, 0x3feea11473eb0187L, 0x3feea589994cce13L,
        0x3feeace5422aa0dbL, 0x3feeb737b0cdc5e5L, 0x3feec49182a3f090L, 0x3feed503b23e255dL,
        0x3feee89f995ad3adL, 0x3feeff76f2fb5e47L, 0x3fef199bdd85529cL, 0x3fef3720dcef9069L,
        0x3fef5818dcfba487L, 0x3fef7c97337b9b5fL, 0x3fefa4afa2a490daL, 0x3fefd0765b6e4540L
    };

    private static final double EXP_SHIFT = 0x1.8p+52;
    private static final double INV_LN2_N = 0x1.71547652b82fep+0 * EXP2F_N;
    private static final double EXP_C0 = 0x1.c6af84b912394p-5 / EXP2F_N / EXP2F_N / EXP2F_N;
    private static final double EXP_C1 = 0x1.ebfce50fac4f3p-3 / EXP2F_N / EXP2F_N;
    private static final double EXP_C2 = 0x1.62e42ff0c52d6p-1 / EXP2F_N;

    /**
     * {@code e^x} as glibc's {@code expf} computes it, for {@code x <= 88.7} (all {@link #sigmoid}
     * passes).
     *
     * @param x the exponent, {@code <= 88.7} or NaN
     * @return {@code e^x}, as glibc's {@code expf} rounds it; 0 below {@code log(2^-150)}
     */
    static float expf(float x) {
        if (x != x) {
            return x;
        }
        if (x < -0x1.9fe368p6f) { // below log(0x1p-150): glibc's underflow, 0
            return 0f;
        }
        double xd = x;
        // x * N / ln2 = k + r, r in [-1/2, 1/2], k an integer
        double z = INV_LN2_N * xd;
        double kd = z + EXP_SHIFT;
        long ki = Double.doubleToRawLongBits(kd);
        kd -= EXP_SHIFT;
        double r = z - kd;
        // e^x = 2^(k/N) * 2^(r/N) ~= s * (C0 r^3 + C1 r^2 + C2 r + 1)
        long t = EXP2F_TAB[(int) (ki & (EXP2F_N - 1))];
        t += ki << (52 - EXP2F_TABLE_BITS);
        double s = Double.longBitsToDouble(t);
        double c = EXP_C0 * r + EXP_C1;
        double r2 = r * r;
        double y = EXP_C2 * r + 1;
        y = c * r2 + y;
        y = y * s;
        return (float) y;
    }

    private static final double LN2 = 0x1.62e42fefa39efp-1;
    private static final double A0 = -0x1.00ea348b88334p-2;
    private static final double A1 = 0x1.5575b0be00b6ap-2;
    private static final double A2 = -0x1.ffffef20a4123p-2;

    /**
     * The natural logarithm as glibc's {@code logf} computes it.
     *
     * @param x a positive, finite, normal float (what {@link #baseMargin} passes)
     * @return {@code log(x)}, as glibc's {@code logf} rounds it
     * @throws IllegalArgumentException if {@code x} is not positive, finite and normal
     */
    static float logf(float x) {
        int ix = Float.floatToRawIntBits(x);
        if (ix == 0x3f800000) {
            return 0f;
        }
        if (!(x >= Float.MIN_NORMAL && x <= Float.MAX_VALUE)) {
            throw new IllegalArgumentException(
                    "logf is reproduced for positive normal floats only, was " + x);
        }
        // x = 2^k z, z in [OFF, 2 OFF] exact; the table entry c is near the centre of z's
        // subinterval: log(x) = log1p(z / c - 1) + log(c) + k ln 2
        int tmp = ix - LOGF_OFF;
        int i = (tmp >>> (23 - LOGF_TABLE_BITS)) % LOGF_N;
        int k = tmp >> 23;
        int iz = ix - (tmp & 0xff800000);
        double z = Float.intBitsToFloat(iz);
        double r = z * INVC[i] - 1;
        double y0 = LOGC[i] + (double) k * LN2;
        double r2 = r * r;
        double y = A1 * r + A2;
        y = A0 * r2 + y;
        y = y * r2 + (y0 + r);
        return (float) y;
    }

    /**
     * XGBoost's base margin for {@code binary:logistic}.
     *
     * @param baseScore the model's {@code base_score}, a probability in (0, 1), as stored (float)
     * @return {@code -logf(1.0f / baseScore - 1.0f)}, log-odds
     */
    static float baseMargin(float baseScore) {
        return -logf(1.0f / baseScore - 1.0f);
    }

    /**
     * XGBoost's float sigmoid.
     *
     * @param x margin, log-odds
     * @return {@code 1.0f / (expf(min(-x, 88.7f)) + 1.0f + 1e-16f)}, in [0, 1]
     */
    static float sigmoid(float x) {
        float m = 88.7f < -x ? 88.7f : -x;
        float denom = expf(m) + 1.0f + 1e-16f;
        return 1.0f / denom;
    }
}

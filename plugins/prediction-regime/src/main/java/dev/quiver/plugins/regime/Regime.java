package dev.quiver.plugins.regime;

import java.util.List;

/**
 * The four market regimes, in the order of the capability's {@code labels} attribute: a forecast's
 * detail {@code regime} is the {@link #ordinal()} of its bar's regime.
 */
public enum Regime {
    /** Prices rising steadily relative to their own noise. */
    TRENDING_UP("trending-up"),
    /** Prices falling steadily relative to their own noise. */
    TRENDING_DOWN("trending-down"),
    /** No persistent direction at ordinary volatility. */
    RANGING("ranging"),
    /** Volatility well above the training window's usual level, whatever the direction. */
    HIGH_VOLATILITY("high-volatility");

    private final String label;

    Regime(String label) {
        this.label = label;
    }

    /**
     * The label as written in the capability and in reports.
     *
     * @return e.g. {@code trending-up}
     */
    public String label() {
        return label;
    }

    /**
     * The name of this regime's posterior in a forecast's details.
     *
     * @return {@code p_} and the label with {@code -} as {@code _}, e.g. {@code p_trending_up}
     */
    public String detail() {
        return "p_" + label.replace('-', '_');
    }

    /**
     * The labels in index order.
     *
     * @return {@code trending-up, trending-down, ranging, high-volatility}
     */
    public static List<String> labels() {
        return List.of(
                TRENDING_UP.label, TRENDING_DOWN.label, RANGING.label, HIGH_VOLATILITY.label);
    }

    /**
     * The regime of a label.
     *
     * @param label as {@link #label()} writes it
     * @return the regime
     * @throws IllegalArgumentException if no regime has that label
     */
    public static Regime ofLabel(String label) {
        for (Regime r : values()) {
            if (r.label.equals(label)) {
                return r;
            }
        }
        throw new IllegalArgumentException("no regime is labelled '" + label + "'");
    }
}

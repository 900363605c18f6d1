package dev.quiver.plugins.kelly;

import dev.quiver.api.error.QuiverInputException;

/** Parsing and range checks of the plugin's configuration values ({@code sizing-kelly.KEY}). */
final class Settings {

    private Settings() {}

    /**
     * @throws QuiverInputException with code {@code BAD_CONFIG} naming the key if not a number
     */
    static double number(String text, String key) {
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw bad(key, text, "is not a number");
        }
    }

    /**
     * @throws QuiverInputException with code {@code BAD_CONFIG} naming the key if not in (0, 1]
     */
    static void unit(double value, String key) {
        if (!(value > 0 && value <= 1)) {
            throw bad(key, value, "is not in (0, 1]");
        }
    }

    /**
     * @throws QuiverInputException with code {@code BAD_CONFIG} naming the key if not finite and
     *     {@code > 0}
     */
    static void positive(double value, String key) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw bad(key, value, "must be finite and > 0");
        }
    }

    private static QuiverInputException bad(String key, Object value, String problem) {
        return new QuiverInputException(
                "BAD_CONFIG", "sizing-kelly." + key, "plugin sizing-kelly", value, problem);
    }
}

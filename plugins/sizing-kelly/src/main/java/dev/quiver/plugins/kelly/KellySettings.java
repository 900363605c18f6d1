package dev.quiver.plugins.kelly;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.QuiverInputException;
import java.util.Map;

/**
 * The multiplier and cap that {@code kelly} and {@code kelly_portfolio} are configured with ({@code
 * sizing-kelly.multiplier}, default 0.25, and {@code sizing-kelly.cap}, default 1.0).
 *
 * @param multiplier fraction of full Kelly, in (0, 1]
 * @param cap largest position per symbol, fraction of equity, in (0, 1]
 */
record KellySettings(double multiplier, double cap) {

    /**
     * @throws QuiverInputException if a value is outside (0, 1]
     */
    KellySettings {
        Settings.unit(multiplier, "multiplier");
        Settings.unit(cap, "cap");
    }

    /**
     * Reads multiplier and cap from the plugin configuration.
     *
     * @throws QuiverInputException if a configured value is not a number in (0, 1]
     */
    static KellySettings of(PluginContext context) {
        return new KellySettings(
                Settings.number(context.config("multiplier").orElse("0.25"), "multiplier"),
                Settings.number(context.config("cap").orElse("1.0"), "cap"));
    }

    /** The descriptor of capability {@code name}, version 1.0.0, with multiplier and cap. */
    CapabilityDescriptor descriptor(String name) {
        return new CapabilityDescriptor(
                name,
                "1.0.0",
                Map.of("multiplier", Double.toString(multiplier), "cap", Double.toString(cap)));
    }
}

package dev.quiver.host.plugin;

import java.util.List;

/**
 * How a plugin's calls went since it was loaded.
 *
 * @param pluginId the plugin
 * @param state {@code ACTIVE} or {@code QUARANTINED}
 * @param calls calls made
 * @param failures calls that failed (threw, missed the deadline, returned garbage)
 * @param deadlineMisses calls that missed their deadline
 * @param liveThreads threads of its pool still alive (a hung call keeps one), plus, when per-bar
 *     calls run on the callers' threads, the callers inside the plugin now
 * @param reason why it is quarantined, or the last failure, or empty
 * @param recentFailures the last few failure reasons, oldest first
 */
public record PluginHealth(
        String pluginId,
        String state,
        long calls,
        long failures,
        long deadlineMisses,
        int liveThreads,
        String reason,
        List<String> recentFailures) {
    public PluginHealth {
        recentFailures = List.copyOf(recentFailures);
    }

    /** Whether the plugin has been quarantined. */
    public boolean quarantined() {
        return state.equals("QUARANTINED");
    }
}

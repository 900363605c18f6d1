package dev.quiver.host.plugin;

import java.time.Instant;

/**
 * A plugin whose {@code stop()} threw (RELIABILITY.md P1): it was marked FAILED with the exception
 * and unloaded anyway, so it is no longer among the runtime's plugins; the runtime keeps this
 * record so the failure stays visible (e.g. in {@code GET /v1/plugins}) after a hot swap or
 * removal.
 *
 * @param pluginId the plugin's {@code Plugin-Id}
 * @param version its {@code Plugin-Version}
 * @param at when {@code stop()} threw
 * @param exception what it threw, {@code Throwable.toString()} (class and message)
 */
public record PluginStopFailure(String pluginId, String version, Instant at, String exception) {}

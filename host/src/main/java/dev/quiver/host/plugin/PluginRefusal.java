package dev.quiver.host.plugin;

import java.nio.file.Path;

/**
 * A plugin the host would not run, and why, in the four-part error shape: code, what, where, hint.
 *
 * @param code stable code, e.g. {@code PLUGIN_API_MISMATCH}; see {@code docs/errors/<code>.md}
 * @param pluginId the plugin's id, or the file name when the manifest could not be read
 * @param path the plugin file or folder
 * @param message the full message, naming the unmet requirement
 */
public record PluginRefusal(String code, String pluginId, Path path, String message) {}

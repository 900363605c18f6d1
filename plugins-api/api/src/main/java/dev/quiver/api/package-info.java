/**
 * The plugin contract's root: its version ({@link dev.quiver.api.QuiverApi}), the host context
 * plugins receive, capability descriptors and stability markers.
 */
@Stable(since = "1.0.0")
package dev.quiver.api;

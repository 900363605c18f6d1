/**
 * The {@code kelly_ts} sizing policy: live temperature scaling of the fused probability, an
 * adaptive minimum confidence, fractional Kelly.
 */
package dev.quiver.plugins.adaptive;

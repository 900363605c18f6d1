/** The prediction capability: per-source direction forecasts. */
@Stable(since = "1.0.0")
package dev.quiver.api.prediction;

import dev.quiver.api.Stable;

/** The ensemble capability: fusion of forecasts into one calibrated signal. */
@Stable(since = "1.0.0")
package dev.quiver.api.ensemble;

import dev.quiver.api.Stable;

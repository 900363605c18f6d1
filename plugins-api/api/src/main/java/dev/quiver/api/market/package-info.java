/** Market data values: OHLCV bars and read-only, point-in-time series views. */
@Stable(since = "1.0.0")
package dev.quiver.api.market;

import dev.quiver.api.Stable;

/** Point-in-time feature vectors and their versioned schema. */
@Stable(since = "1.0.0")
package dev.quiver.api.feature;

import dev.quiver.api.Stable;

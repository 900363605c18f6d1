/** The sizing capability: from fused signal to a target fraction of equity. */
@Stable(since = "1.0.0")
package dev.quiver.api.sizing;

import dev.quiver.api.Stable;

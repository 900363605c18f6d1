/** Exceptions of the contract: bad input ({@code QuiverInputException}) and capability failures. */
@Stable(since = "1.0.0")
package dev.quiver.api.error;

import dev.quiver.api.Stable;

/** Risk limits the host enforces on every sizing decision, whatever a plugin returns. */
package dev.quiver.engine.risk;

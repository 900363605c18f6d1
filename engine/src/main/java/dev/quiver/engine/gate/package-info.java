/**
 * The input gate: a decision abstains, with a reason, on a bar unlike anything its strategy was
 * fitted on (a feature vector too far from the training distribution, a gap, an extreme move).
 */
package dev.quiver.engine.gate;

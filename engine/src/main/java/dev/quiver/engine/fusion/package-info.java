/** The host's built-in ensemble: per-source Platt calibration and skill-weighted fusion. */
package dev.quiver.engine.fusion;

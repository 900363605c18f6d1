package dev.quiver.api.ensemble;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.Stable;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import java.nio.file.Path;
import java.util.List;
import org.pf4j.ExtensionPoint;

/**
 * Fuses the sources' forecasts for one bar into one calibrated signal.
 *
 * <p>Walk-forward: before each test fold the host calls {@link #fit} with labelled forecasts of
 * bars that end (outcome included) before the fold's first bar minus the embargo, never with the
 * bars being scored.
 *
 * <p>Fitted state: an ensemble that learns in {@code fit} can write what it learnt ({@link
 * #exportState}) and a fresh instance can read it back ({@link #restoreState}) and fuse exactly as
 * the fitted one did, so that the live service serves what was backtested. {@link
 * #hasFittedState()} tells a stateless ensemble (nothing to export) from one whose state must be
 * shipped.
 *
 * <p>Implemented by plugins: adding an abstract method is a major change.
 *
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public interface EnsembleCapability extends ExtensionPoint, AutoCloseable {

    /**
     * What this ensemble is.
     *
     * @return the descriptor, the same on every call
     */
    CapabilityDescriptor descriptor();

    /**
     * Fits the fusion (weights, calibration) on past, labelled forecasts. The default keeps the
     * current fit.
     *
     * @param trainingWindow bars in time order, all strictly before the next bars to be fused
     */
    default void fit(List<LabeledForecasts> trainingWindow) {}

    /**
     * Fuses the available forecasts of the decision bar. Sources that failed for this bar are
     * absent from the list.
     *
     * @param forecasts the available sources' forecasts, at least one
     * @param frame features of the decision bar
     * @return the fused signal, with one contribution per forecast
     * @throws CapabilityException if the ensemble cannot fuse
     */
    FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame);

    /**
     * Whether {@link #fit} changes how this ensemble fuses, so that serving exactly what was
     * backtested needs its fitted state ({@link #exportState}, {@link #restoreState}).
     *
     * <ul>
     *   <li>{@code false}: stateless. A fresh instance with the same configuration fuses exactly as
     *       a fitted one; there is nothing to export or restore.
     *   <li>{@code true}: the state must travel with the ensemble. If {@link #exportState} then
     *       throws {@link UnsupportedOperationException}, the state cannot be exported, and a
     *       bundle must refuse the ensemble rather than ship it unfitted.
     * </ul>
     *
     * <p>The answer does not depend on whether the instance has been fitted yet (an unfitted
     * instance exports its unfitted state). The default is {@code true} exactly when the
     * implementation overrides {@link #fit}, so an ensemble written before 1.3.0 that learns in
     * {@code fit} is reported as fitted but not exportable, never as stateless. Implementations
     * with fitted state override this and the two methods below.
     *
     * @return whether this ensemble has state learnt by {@link #fit}
     * @since 1.3.0
     */
    default boolean hasFittedState() {
        try {
            return getClass().getMethod("fit", List.class).getDeclaringClass()
                    != EnsembleCapability.class;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(
                    getClass().getName() + " has no public fit(List): not an EnsembleCapability?",
                    e);
        }
    }

    /**
     * Writes this ensemble's fitted state (as {@link #fit} or {@link #restoreState} left it; a
     * never-fitted instance writes its unfitted state) into {@code dir}, for a strategy bundle.
     *
     * <p>Files: non-executable formats only, JSON and a library's own model format (XGBoost {@code
     * .json}/{@code .ubj}), never Java serialization or pickle. The first file is a JSON state file
     * named {@code <name>.state.json} ({@code <name>} = {@code descriptor().name()}), which records
     * its format version and the capability's name and version; any further file is named {@code
     * <name>.<part>.<ext>} and referenced from the state file. The names let the states of several
     * components share one folder. Files of the same names are replaced.
     *
     * @param dir an existing folder; files are written directly in it (no sub-folders)
     * @return the files written, each directly in {@code dir}: the JSON state file first
     * @throws UnsupportedOperationException if the ensemble has no fitted state ({@link
     *     #hasFittedState()} is false) or cannot export it (the default)
     * @throws IllegalStateException if the ensemble is closed
     * @throws java.io.UncheckedIOException if a file cannot be written
     * @since 1.3.0
     */
    default List<Path> exportState(Path dir) {
        throw new UnsupportedOperationException(
                "ensemble '"
                        + descriptor().name()
                        + (hasFittedState()
                                ? "' learns in fit but does not implement exportState: its fitted"
                                        + " state cannot be exported"
                                : "' has no fitted state to export"));
    }

    /**
     * Replaces this ensemble's fitted state with the one {@link #exportState} wrote into {@code
     * dir}, by this or another instance of the same capability with the same configuration.
     * Afterwards {@link #fuse} returns results equal to the exporting instance's, bit for bit, for
     * the same inputs, until the next {@link #fit}. Files in {@code dir} with other names are
     * ignored.
     *
     * <p>All or nothing: if it throws, the ensemble keeps the state it had and fuses as before.
     *
     * @param dir the folder {@code exportState} wrote into
     * @throws QuiverInputException with code {@code BAD_STATE}, naming the file and the field, if a
     *     file is missing, truncated or malformed, has a format version this implementation does
     *     not read, was written by another capability or under another configuration
     * @throws UnsupportedOperationException if the ensemble has no fitted state or cannot restore
     *     it (the default)
     * @throws IllegalStateException if the ensemble is closed
     * @throws java.io.UncheckedIOException if an existing file cannot be read
     * @since 1.3.0
     */
    default void restoreState(Path dir) {
        throw new UnsupportedOperationException(
                "ensemble '"
                        + descriptor().name()
                        + (hasFittedState()
                                ? "' learns in fit but does not implement restoreState: its fitted"
                                        + " state cannot be restored"
                                : "' has no fitted state to restore"));
    }

    /** Releases resources. Idempotent. */
    @Override
    default void close() {}
}

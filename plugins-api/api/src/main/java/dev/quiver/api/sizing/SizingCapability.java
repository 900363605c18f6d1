package dev.quiver.api.sizing;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.Stable;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import java.nio.file.Path;
import java.util.List;
import org.pf4j.ExtensionPoint;

/**
 * Turns a fused signal into a target position, a fraction of equity. The host's risk guard enforces
 * the cap and finiteness whatever is returned.
 *
 * <p>Contract: a decision never above {@code context.maxFraction()}; zero when there is no positive
 * edge; deterministic for the same context.
 *
 * <p>Fitted state: a policy that learns in {@code fit} can write what it learnt ({@link
 * #exportState}) and a fresh instance can read it back ({@link #restoreState}) and size exactly as
 * the fitted one did, so that the live service serves what was backtested. {@link
 * #hasFittedState()} tells a stateless policy (a fixed fraction, plain quarter-Kelly) from one
 * whose state must be shipped.
 *
 * <p>Implemented by plugins: adding an abstract method is a major change.
 *
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public interface SizingCapability extends ExtensionPoint, AutoCloseable {

    /**
     * What this policy is; its name is the policy's name in reports, e.g. {@code kelly}.
     *
     * @return the descriptor, the same on every call
     */
    CapabilityDescriptor descriptor();

    /**
     * Sizes the position to hold over the next bar.
     *
     * @param context the signal, account state and market state at the decision bar
     * @return the decision, with a reason
     * @throws CapabilityException if the policy cannot decide
     */
    SizingDecision size(SizingContext context);

    /**
     * Fits the policy on what past decisions would have earned. Walk-forward calls it before each
     * test fold with outcomes fully realised before the fold's first bar minus the embargo; the
     * contexts carry the out-of-sample fused signals of their bars. The default keeps the policy as
     * it is.
     *
     * @param history outcomes in time order, possibly empty
     * @throws CapabilityException if fitting fails; the host then sizes the fold flat for this
     *     policy and says so
     * @since 1.1.0
     */
    default void fit(List<SizingOutcome> history) {}

    /**
     * Whether {@link #fit} changes how this policy sizes, so that serving exactly what was
     * backtested needs its fitted state ({@link #exportState}, {@link #restoreState}).
     *
     * <ul>
     *   <li>{@code false}: stateless (a fixed fraction, plain quarter-Kelly). A fresh instance with
     *       the same configuration sizes exactly as a fitted one; there is nothing to export or
     *       restore.
     *   <li>{@code true}: the state must travel with the policy. If {@link #exportState} then
     *       throws {@link UnsupportedOperationException}, the state cannot be exported, and a
     *       bundle must refuse the policy rather than ship it unfitted.
     * </ul>
     *
     * <p>The answer does not depend on whether the instance has been fitted yet (an unfitted
     * instance exports its unfitted state). The default is {@code true} exactly when the
     * implementation overrides {@link #fit}, so a policy written before 1.3.0 that learns in {@code
     * fit} is reported as fitted but not exportable, never as stateless. Implementations with
     * fitted state override this and the two methods below.
     *
     * @return whether this policy has state learnt by {@link #fit}
     * @since 1.3.0
     */
    default boolean hasFittedState() {
        try {
            return getClass().getMethod("fit", List.class).getDeclaringClass()
                    != SizingCapability.class;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(
                    getClass().getName() + " has no public fit(List): not a SizingCapability?", e);
        }
    }

    /**
     * Writes this policy's fitted state (as {@link #fit} or {@link #restoreState} left it; a
     * never-fitted instance writes its unfitted state) into {@code dir}, for a strategy bundle.
     *
     * <p>Files: non-executable formats only, JSON and a library's own model format (XGBoost {@code
     * .json}/{@code .ubj}), never Java serialization or pickle. The first file is a JSON state file
     * named {@code <name>.state.json} ({@code <name>} = {@code descriptor().name()}), which records
     * its format version and the capability's name and version; any further file is named {@code
     * <name>.<part>.<ext>} (e.g. {@code kelly_ml.xgb.json}) and referenced from the state file. The
     * names let the states of several components share one folder. Files of the same names are
     * replaced.
     *
     * @param dir an existing folder; files are written directly in it (no sub-folders)
     * @return the files written, each directly in {@code dir}: the JSON state file first
     * @throws UnsupportedOperationException if the policy has no fitted state ({@link
     *     #hasFittedState()} is false) or cannot export it (the default)
     * @throws IllegalStateException if the policy is closed
     * @throws java.io.UncheckedIOException if a file cannot be written
     * @since 1.3.0
     */
    default List<Path> exportState(Path dir) {
        throw new UnsupportedOperationException(
                "sizing '"
                        + descriptor().name()
                        + (hasFittedState()
                                ? "' learns in fit but does not implement exportState: its fitted"
                                        + " state cannot be exported"
                                : "' has no fitted state to export"));
    }

    /**
     * Replaces this policy's fitted state with the one {@link #exportState} wrote into {@code dir},
     * by this or another instance of the same capability with the same configuration. Afterwards
     * {@link #size} returns decisions equal to the exporting instance's, bit for bit, for the same
     * contexts, until the next {@link #fit}. Files in {@code dir} with other names are ignored.
     *
     * <p>All or nothing: if it throws, the policy keeps the state it had and sizes as before.
     *
     * @param dir the folder {@code exportState} wrote into
     * @throws QuiverInputException with code {@code BAD_STATE}, naming the file and the field, if a
     *     file is missing, truncated or malformed, has a format version this implementation does
     *     not read, was written by another capability or under another configuration
     * @throws UnsupportedOperationException if the policy has no fitted state or cannot restore it
     *     (the default)
     * @throws IllegalStateException if the policy is closed
     * @throws java.io.UncheckedIOException if an existing file cannot be read
     * @since 1.3.0
     */
    default void restoreState(Path dir) {
        throw new UnsupportedOperationException(
                "sizing '"
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

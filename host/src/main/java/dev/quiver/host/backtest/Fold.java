package dev.quiver.host.backtest;

import java.time.Instant;

/**
 * One walk-forward fold, as bar indices (all inclusive) and bar start times.
 *
 * @param index fold number, from 0
 * @param trainFirst first training bar
 * @param trainLast last training bar; its label (close of {@code trainLast + 1}) is known before
 *     {@code testFirst - embargoBars + 1}
 * @param testFirst first test bar, {@code trainLast + embargoBars + 1}
 * @param testLast last test bar
 * @param trainStart start time of {@code trainFirst}
 * @param trainEnd start time of {@code trainLast}
 * @param testStart start time of {@code testFirst}
 * @param testEnd start time of {@code testLast}
 */
public record Fold(
        int index,
        int trainFirst,
        int trainLast,
        int testFirst,
        int testLast,
        Instant trainStart,
        Instant trainEnd,
        Instant testStart,
        Instant testEnd) {

    /**
     * Number of test bars.
     *
     * @return {@code testLast - testFirst + 1}
     */
    public int testBars() {
        return testLast - testFirst + 1;
    }
}

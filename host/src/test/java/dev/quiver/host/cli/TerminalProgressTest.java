package dev.quiver.host.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * The progress display: plain lines (one per fold, no carriage return) for logs, a bar redrawn in
 * place for a terminal, nothing when asked. The automatic choice is made for standard error, which
 * under the test runner is a file or a pipe: lines.
 */
class TerminalProgressTest {

    private static final int FOLDS = 40;

    private static String run(TerminalProgress.Mode mode, ByteArrayOutputStream bytes) {
        try (TerminalProgress p =
                TerminalProgress.open(mode, new PrintStream(bytes, true, StandardCharsets.UTF_8))) {
            for (int f = 1; f <= FOLDS; f++) {
                p.fold("btc-usd-4h", f, FOLDS, 1000 + 500 * f, 21_000, 500 * f, 1_000_000_000L * f);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void linesArePlainOnePerFold() {
        String out = run(TerminalProgress.Mode.LINES, new ByteArrayOutputStream());
        assertThat(out).doesNotContain("\r");
        assertThat(out.lines()).hasSize(FOLDS);
        assertThat(out.lines().reduce((a, b) -> b).orElseThrow())
                .isEqualTo(
                        "backtest btc-usd-4h: fold 40/40, 21,000/21,000 bars (100%), 500 test bars/s");
    }

    @Test
    void autoGivesLinesWhenStandardErrorIsNotATerminal() {
        // Surefire sends the forked JVM's standard error to a pipe: not a terminal.
        TerminalProgress p = TerminalProgress.open(TerminalProgress.Mode.AUTO, System.err);
        assertThat(p.mode()).isEqualTo(TerminalProgress.Mode.LINES);
    }

    /**
     * Repeated: forty folds take microseconds here, so the bar is often closed before the library's
     * first refresh, the case where progressbar 0.10.1 leaves the line open.
     */
    @RepeatedTest(100)
    void theBarIsRedrawnInPlaceAndEndsWithTheLastFold() {
        String out = run(TerminalProgress.Mode.BAR, new ByteArrayOutputStream());
        assertThat(out).contains("\r").contains("backtest btc-usd-4h");
        String last = out.substring(out.lastIndexOf('\r') + 1);
        assertThat(last).contains("100%", "fold 40/40").endsWith("\n");
        // One line in all: redrawn with carriage returns, ended once.
        assertThat(out.chars().filter(c -> c == '\n').count()).isEqualTo(1);
    }

    @Test
    void noneSaysNothingAndABadModeIsNamed() {
        assertThat(run(TerminalProgress.Mode.NONE, new ByteArrayOutputStream())).isEmpty();
        assertThatThrownBy(() -> TerminalProgress.Mode.parse("fancy"))
                .hasMessageContaining("--progress fancy")
                .hasMessageContaining("auto, bar, lines or none");
    }
}

package dev.quiver.host.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SIGKILL loses nothing acknowledged: a child JVM ({@link SigkillWriter}) records fills and
 * appends bar + event transactions to a SQLite store in a loop, printing each acknowledged write
 * after the store returned; the test kills it with SIGKILL ({@link ProcessHandle#destroyForcibly()}
 * on Linux) at a random point, several rounds on the same file, then reopens the store and finds
 * every acknowledged write, nothing torn (each bar with its event) and no gaps.
 */
class SqliteSigkillTest {

    private static final Pattern ACK = Pattern.compile("ack (fill|bar) (\\S+) end");

    @TempDir Path home;

    @Test
    void everyAcknowledgedWriteSurvivesSigkill() throws Exception {
        String url = "jdbc:sqlite:" + home.resolve("state.db");
        Set<String> ackedFills = new LinkedHashSet<>();
        Set<Long> ackedBars = new LinkedHashSet<>();
        Random random = new Random(20261207L);
        int rounds = 4;
        for (int round = 0; round < rounds; round++) {
            int killAfter = 30 + random.nextInt(120);
            Path stderr = home.resolve("child-" + round + ".err");
            Process child =
                    new ProcessBuilder(
                                    Path.of(System.getProperty("java.home"), "bin", "java")
                                            .toString(),
                                    "-cp",
                                    System.getProperty("java.class.path"),
                                    SigkillWriter.class.getName(),
                                    url,
                                    home.toString())
                            .redirectError(stderr.toFile())
                            .start();
            int acks = 0;
            boolean killed = false;
            try (BufferedReader out =
                    new BufferedReader(
                            new InputStreamReader(
                                    child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    Matcher m = ACK.matcher(line);
                    if (m.matches()) {
                        if (m.group(1).equals("fill")) {
                            ackedFills.add(m.group(2));
                        } else {
                            ackedBars.add(Long.parseLong(m.group(2)));
                        }
                        acks++;
                    } else {
                        assertThat(line).as("child output").startsWith("ready ");
                    }
                    if (acks == killAfter && !killed) {
                        // SIGKILL on Linux. Through the handle: Process.destroyForcibly would also
                        // close our end of the pipe, and the acks still in it would be lost.
                        assertThat(child.toHandle().destroyForcibly()).isTrue();
                        killed = true;
                    }
                    // Lines the child wrote before it died are still read: acknowledged too.
                }
            } finally {
                child.destroyForcibly();
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(killed)
                    .as(
                            "round %d: the child stopped after %d acks before it was killed: %s",
                            round, acks, Files.readString(stderr))
                    .isTrue();
            // 128 + 9: killed by SIGKILL, not an exit of its own.
            assertThat(child.exitValue()).as("exit status of round %d", round).isEqualTo(137);
        }

        try (StateStore store = StateStore.open(Optional.of(url), home)) {
            List<String> fills =
                    store.fills(SigkillWriter.ACCOUNT_ID).stream()
                            .map(FillRow::clientFillId)
                            .toList();
            assertThat(fills).containsAll(ackedFills);
            // No gaps, no repeats: f-0, f-1, ... in order (a write the kill interrupted is absent
            // or whole, and the next round goes on from it).
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < fills.size(); i++) {
                expected.add("f-" + i);
            }
            assertThat(fills).containsExactlyElementsOf(expected);
            assertThat(fills.size()).isGreaterThanOrEqualTo(ackedFills.size());

            List<Long> bars =
                    store.bars(SigkillWriter.SYMBOL).stream().map(BarRow::startMs).toList();
            assertThat(bars).containsAll(ackedBars);
            List<Long> eventBars =
                    store.events(SigkillWriter.ACCOUNT_ID).stream()
                            .map(e -> e.event().timeMs())
                            .toList();
            // Each bar was written with its event in one transaction: never one without the other.
            assertThat(eventBars).containsExactlyElementsOf(bars);
        }
        assertThat(ackedFills).hasSizeGreaterThanOrEqualTo(rounds * 15);
    }
}

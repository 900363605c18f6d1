package dev.quiver.host.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training job's child process, with real processes (bash): its lines reach the listener, a
 * failure returns the tail of its stderr, and a stop (an interrupt or a listener that throws, as a
 * cancelled job's progress does) kills the child and the process it started.
 */
class ChildProcessTest {

    @TempDir Path dir;

    @Test
    void linesReachTheListenerAndTheExitCodeIsReturned() throws Exception {
        List<String> seen = new ArrayList<>();
        ChildProcess.Outcome o =
                ChildProcess.run(
                        List.of("bash", "-c", "echo 0:learn; echo oops >&2; echo done"),
                        dir,
                        Map.of(),
                        (pid, lines) -> seen.addAll(lines));
        assertThat(o.exitCode()).isZero();
        assertThat(seen).contains("0:learn", "oops", "done");
        assertThat(o.stderrTail()).containsExactly("oops");
    }

    @Test
    void aFailureKeepsTheTailOfStderr() throws Exception {
        ChildProcess.Outcome o =
                ChildProcess.run(
                        List.of(
                                "bash",
                                "-c",
                                "for i in $(seq 1 100); do echo line $i >&2; done; exit 3"),
                        dir,
                        Map.of(),
                        (pid, lines) -> {});
        assertThat(o.exitCode()).isEqualTo(3);
        assertThat(o.stderrTail()).hasSize(ChildProcess.TAIL_LINES);
        assertThat(o.stderrTail().get(ChildProcess.TAIL_LINES - 1)).isEqualTo("line 100");
        assertThat(o.stderrTail().get(0)).isEqualTo("line " + (100 - ChildProcess.TAIL_LINES + 1));
    }

    @Test
    void aListenerThatThrowsKillsTheChildAndItsChildren() throws Exception {
        long[] pids = new long[2];
        Pattern grandchild = Pattern.compile("grandchild (\\d+)");
        assertThatThrownBy(
                        () ->
                                ChildProcess.run(
                                        List.of(
                                                "bash",
                                                "-c",
                                                "sleep 300 & echo grandchild $!; sleep 300"),
                                        dir,
                                        Map.of(),
                                        (pid, lines) -> {
                                            pids[0] = pid;
                                            for (String l : lines) {
                                                Matcher m = grandchild.matcher(l);
                                                if (m.find()) {
                                                    pids[1] = Long.parseLong(m.group(1));
                                                }
                                            }
                                            if (pids[1] != 0) {
                                                throw new JobCancelledException("job-test");
                                            }
                                        }))
                .isInstanceOf(JobCancelledException.class);
        assertDead(pids[0]);
        assertDead(pids[1]);
    }

    @Test
    void anInterruptKillsTheChildAndItsChildren() throws Exception {
        long[] pids = new long[2];
        Throwable[] thrown = new Throwable[1];
        Thread t =
                new Thread(
                        () -> {
                            try {
                                ChildProcess.run(
                                        List.of(
                                                "bash",
                                                "-c",
                                                "sleep 300 & echo grandchild $!; sleep 300"),
                                        dir,
                                        Map.of(),
                                        (pid, lines) -> {
                                            pids[0] = pid;
                                            for (String l : lines) {
                                                if (l.startsWith("grandchild ")) {
                                                    pids[1] = Long.parseLong(l.substring(11));
                                                }
                                            }
                                        });
                            } catch (Throwable e) {
                                thrown[0] = e;
                            }
                        });
        t.start();
        while (pids[1] == 0 && t.isAlive()) {
            Thread.sleep(50);
        }
        t.interrupt();
        t.join();
        assertThat(thrown[0]).isInstanceOf(InterruptedException.class);
        assertDead(pids[0]);
        assertDead(pids[1]);
    }

    /** Waits for the process to be gone (SIGKILL is asynchronous), then checks it is. */
    private static void assertDead(long pid) throws Exception {
        assertThat(pid).isPositive();
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isPresent()) {
            try {
                h.get().onExit().get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // checked below
            }
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                .as("process %d is still alive", pid)
                .isFalse();
    }
}

package dev.quiver.host.training;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A child process run for a training job (a Python training script in its pinned venv): every line
 * it prints on stdout or stderr goes to a listener (the job's progress), the last lines of stderr
 * are kept for the error, and the thread that waits for it can stop it: an interrupt (a cancel, a
 * shutdown) or an exception from the listener kills the child and every process it started (its
 * whole tree, e.g. the {@code quiver features} JVM a script runs), forcibly.
 */
public final class ChildProcess {

    /** Lines of stderr kept for the error of a failed run. */
    public static final int TAIL_LINES = 30;

    /**
     * How a run ended.
     *
     * @param pid the child's process id
     * @param exitCode its exit code
     * @param stderrTail its last {@link #TAIL_LINES} lines of stderr, oldest first
     */
    public record Outcome(long pid, int exitCode, List<String> stderrTail) {

        /** Copies the list. */
        public Outcome {
            stderrTail = List.copyOf(stderrTail);
        }
    }

    /**
     * Told each line the child prints and, about once a second while it runs, nothing new: the
     * waiting thread calls it, so a listener that throws (a cancelled job) stops the child.
     */
    public interface Listener {

        /**
         * Called on the waiting thread with the lines printed since the last call (possibly none).
         *
         * @param pid the child's process id
         * @param lines the new lines, stdout and stderr interleaved as read
         */
        void lines(long pid, List<String> lines);
    }

    private ChildProcess() {}

    /**
     * Runs a command to its end, or until this thread is interrupted or the listener throws.
     *
     * @param command the program and its arguments
     * @param dir the working folder
     * @param environment variables added to this process' environment
     * @param listener told the lines printed, about once a second
     * @return how it ended
     * @throws IOException if the program cannot be started
     * @throws InterruptedException if this thread is interrupted: the child's tree is killed first
     * @throws RuntimeException what the listener threw: the child's tree is killed first
     */
    public static Outcome run(
            List<String> command, Path dir, Map<String, String> environment, Listener listener)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().putAll(environment);
        pb.redirectInput(ProcessBuilder.Redirect.PIPE);
        Process p = pb.start();
        p.getOutputStream().close();
        List<String> fresh = new ArrayList<>();
        Deque<String> tail = new ArrayDeque<>();
        Thread out = reader(p.getInputStream(), fresh, null, "stdout of " + p.pid());
        Thread err = reader(p.getErrorStream(), fresh, tail, "stderr of " + p.pid());
        boolean ended = false;
        try {
            while (!p.waitFor(1, TimeUnit.SECONDS)) {
                listener.lines(p.pid(), drain(fresh));
            }
            out.join();
            err.join();
            listener.lines(p.pid(), drain(fresh));
            ended = true;
        } finally {
            if (!ended) {
                killTree(p.toHandle());
                out.interrupt();
                err.interrupt();
            }
        }
        synchronized (tail) {
            return new Outcome(p.pid(), p.exitValue(), new ArrayList<>(tail));
        }
    }

    /**
     * Kills a process and every process it started, forcibly (SIGKILL): the descendants found
     * before the process dies (afterwards they would be re-parented and out of reach), and theirs.
     *
     * @param root the process
     */
    public static void killTree(ProcessHandle root) {
        List<ProcessHandle> tree = root.descendants().toList();
        root.destroyForcibly();
        for (ProcessHandle h : tree) {
            List<ProcessHandle> below = h.descendants().toList();
            h.destroyForcibly();
            below.forEach(ProcessHandle::destroyForcibly);
        }
    }

    private static List<String> drain(List<String> fresh) {
        synchronized (fresh) {
            List<String> copy = List.copyOf(fresh);
            fresh.clear();
            return copy;
        }
    }

    private static Thread reader(
            InputStream in, List<String> fresh, Deque<String> tail, String name) {
        Thread t =
                new Thread(
                        () -> {
                            try (BufferedReader r =
                                    new BufferedReader(
                                            new InputStreamReader(in, StandardCharsets.UTF_8))) {
                                for (String line; (line = r.readLine()) != null; ) {
                                    synchronized (fresh) {
                                        fresh.add(line);
                                    }
                                    if (tail != null) {
                                        synchronized (tail) {
                                            tail.addLast(line);
                                            if (tail.size() > TAIL_LINES) {
                                                tail.removeFirst();
                                            }
                                        }
                                    }
                                }
                            } catch (IOException e) {
                                // The stream closed under us: the child was killed.
                            }
                        },
                        name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}

package dev.quiver.host.plugin;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What keeps an unloaded plugin's class loader reachable, and what the host does about it (in the
 * manner of Tomcat's {@code WebappClassLoaderBase.clearReferences*}):
 *
 * <ul>
 *   <li><b>ThreadLocals on host threads.</b> Libraries cache per thread (Jackson's {@code
 *       BufferRecyclers} keeps a {@code SoftReference<BufferRecycler>} in a ThreadLocal of the
 *       calling thread); the value's class pins the plugin's class loader for as long as that host
 *       thread lives. So the host never runs plugin code on its own long-lived threads: extensions
 *       are created and closed on a short-lived thread of the plugin ({@link #onOwnThread}), calls
 *       run on the plugin's guard pool, whose threads end when the plugin is retired.
 *   <li><b>Shutdown hooks.</b> ONNX Runtime's {@code OrtEnvironment} registers a hook ({@code
 *       OrtEnvCloser}) that frees the native environment at JVM exit and is never removed; {@code
 *       java.lang.ApplicationShutdownHooks} then holds a plugin class for good. {@link
 *       #releaseShutdownHooks} removes every hook that belongs to the plugin and runs it at once
 *       (its job is due now: the plugin is going). It needs {@code --add-opens
 *       java.base/java.lang=ALL-UNNAMED} (set by {@code bin/quiver} and the test JVMs); without it
 *       the host says so and the class loader stays.
 *   <li><b>Threads the plugin started and left running</b> (or a thread whose context class loader
 *       is the plugin's): cannot be stopped safely; {@link #threadsOf} names them in a warning.
 *   <li><b>ThreadLocals a plugin set on a thread it does not own</b> (a host thread that called it
 *       in watchdog isolation, where calls run on the caller's thread): {@link #threadLocalsOf}
 *       finds every entry of every live thread whose key or value is of a plugin class (Tomcat's
 *       {@code checkThreadLocalsForLeaks}) and names them in a warning; the host does not clear
 *       another thread's map (not thread-safe), so the class loader stays until that thread ends.
 * </ul>
 */
final class PluginLeaks {

    private static final Logger log = LoggerFactory.getLogger(PluginLeaks.class);

    /** How long creating or closing a plugin's extensions may take before the host moves on. */
    static final long OWN_THREAD_JOIN_MILLIS = 600_000;

    private PluginLeaks() {}

    /** A plugin's start, construction or close that did not end within its deadline. */
    static final class PluginStuckException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PluginStuckException(String message) {
            super(message);
        }
    }

    /**
     * Runs {@code body} on a new daemon thread named {@code quiver-plugin-<id>-<what>} and waits
     * for it, so whatever the plugin caches per thread dies with that thread.
     *
     * @return what {@code body} returned
     * @throws RuntimeException or {@link Error} what {@code body} threw, as thrown
     * @throws IllegalStateException if it did not end within {@link #OWN_THREAD_JOIN_MILLIS}
     */
    static <T> T onOwnThread(String pluginId, String what, Callable<T> body) {
        return onOwnThread(pluginId, what, body, OWN_THREAD_JOIN_MILLIS);
    }

    /**
     * As {@link #onOwnThread(String, String, Callable)}, waiting at most {@code deadlineMillis}.
     *
     * @throws PluginStuckException if it did not end within {@code deadlineMillis}; its thread is
     *     left behind (Java cannot kill a thread)
     */
    static <T> T onOwnThread(String pluginId, String what, Callable<T> body, long deadlineMillis) {
        var result = new AtomicReference<T>();
        var failure = new AtomicReference<Throwable>();
        Thread t =
                new Thread(
                        () -> {
                            try {
                                result.set(body.call());
                            } catch (Throwable e) {
                                failure.set(e);
                            }
                        },
                        "quiver-plugin-" + pluginId + "-" + what);
        t.setDaemon(true);
        t.start();
        try {
            t.join(deadlineMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(
                    "interrupted while plugin '" + pluginId + "' was at " + what, e);
        }
        if (t.isAlive()) {
            throw new PluginStuckException(
                    "[Quiver/PLUGIN_STUCK] plugin '"
                            + pluginId
                            + "' did not finish "
                            + what
                            + " within "
                            + deadlineMillis
                            + " ms; its thread "
                            + t.getName()
                            + " is left behind");
        }
        Throwable e = failure.get();
        if (e instanceof RuntimeException r) {
            throw r;
        }
        if (e instanceof Error err) {
            throw err;
        }
        if (e != null) {
            throw new IllegalStateException(e.toString(), e);
        }
        return result.get();
    }

    /**
     * Removes the JVM shutdown hooks that belong to a plugin (the hook thread's class, its {@code
     * Runnable}'s class or its context class loader is the plugin's) and runs each now, on this
     * thread.
     *
     * @param pluginId for messages
     * @param loader the plugin's class loader
     * @return how many hooks were released; -1 if the JVM does not let the host look (no {@code
     *     --add-opens java.base/java.lang=ALL-UNNAMED})
     */
    static int releaseShutdownHooks(String pluginId, ClassLoader loader) {
        List<Thread> hooks;
        Field target;
        try {
            Class<?> holder = Class.forName("java.lang.ApplicationShutdownHooks");
            Field hooksField = holder.getDeclaredField("hooks");
            hooksField.setAccessible(true);
            target = Thread.class.getDeclaredField("target");
            target.setAccessible(true);
            synchronized (holder) {
                Object map = hooksField.get(null);
                if (map == null) {
                    return 0; // the JVM is shutting down: hooks run anyway
                }
                hooks =
                        new ArrayList<>(
                                ((Map<?, ?>) map)
                                        .keySet().stream().map(Thread.class::cast).toList());
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            warnOnce(
                    "[Quiver/PLUGIN_HOOKS_HIDDEN] cannot inspect JVM shutdown hooks ("
                            + e
                            + "); a plugin that registers one (ONNX Runtime does) keeps its class"
                            + " loader after unload. Start the JVM with --add-opens"
                            + " java.base/java.lang=ALL-UNNAMED (bin/quiver does).");
            return -1;
        }
        int released = 0;
        for (Thread hook : hooks) {
            Object runnable;
            try {
                runnable = target.get(hook);
            } catch (IllegalAccessException e) {
                continue;
            }
            if (!belongs(hook, loader)
                    && !belongs(runnable, loader)
                    && hook.getContextClassLoader() != loader) {
                continue;
            }
            try {
                if (!Runtime.getRuntime().removeShutdownHook(hook)) {
                    continue;
                }
            } catch (IllegalStateException shuttingDown) {
                return released;
            }
            released++;
            try {
                hook.run();
                log.info(
                        "plugin '{}': released its shutdown hook {} ({})",
                        pluginId,
                        hook.getName(),
                        runnable == null
                                ? hook.getClass().getName()
                                : runnable.getClass().getName());
            } catch (RuntimeException | LinkageError e) {
                log.warn(
                        "[Quiver/PLUGIN_HOOK_FAILED] plugin '{}': its shutdown hook {} threw: {}",
                        pluginId,
                        hook.getName(),
                        e.toString());
            }
        }
        return released;
    }

    /**
     * Live threads that belong to a plugin: their class, their {@code Runnable}'s class (when the
     * JVM lets the host look) or their context class loader is the plugin's.
     *
     * @return their names, sorted
     */
    static List<String> threadsOf(ClassLoader loader) {
        Field target = threadTarget();
        return Thread.getAllStackTraces().keySet().stream()
                .filter(
                        t ->
                                belongs(t, loader)
                                        || t.getContextClassLoader() == loader
                                        || belongs(targetOf(target, t), loader))
                .map(Thread::getName)
                .sorted()
                .toList();
    }

    /**
     * ThreadLocal entries of live threads that pin a plugin: the entry's {@code ThreadLocal} or its
     * value is an instance of a class the plugin's loader defined (a collection or array value is
     * not looked into). Reads {@code Thread.threadLocals} and {@code inheritableThreadLocals} by
     * reflection, as Tomcat does; needs {@code --add-opens java.base/java.lang=ALL-UNNAMED}.
     *
     * @param loader the plugin's class loader
     * @return one line per entry, {@code thread 'main': ThreadLocal <key class> = <value class>},
     *     sorted; empty if the JVM does not let the host look (logged once)
     */
    static List<String> threadLocalsOf(ClassLoader loader) {
        Field locals;
        Field inheritable;
        try {
            locals = Thread.class.getDeclaredField("threadLocals");
            inheritable = Thread.class.getDeclaredField("inheritableThreadLocals");
            locals.setAccessible(true);
            inheritable.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            warnOnce(
                    "[Quiver/PLUGIN_THREADLOCALS_HIDDEN] cannot inspect thread locals ("
                            + e
                            + "); a plugin's ThreadLocal left on a host thread is not reported."
                            + " Start the JVM with --add-opens java.base/java.lang=ALL-UNNAMED"
                            + " (bin/quiver does).");
            return List.of();
        }
        var out = new ArrayList<String>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            for (Field f : List.of(locals, inheritable)) {
                try {
                    entriesPinning(t, f.get(t), loader, out);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    warnOnce(
                            "[Quiver/PLUGIN_THREADLOCALS_HIDDEN] cannot read the thread locals"
                                    + " of thread '"
                                    + t.getName()
                                    + "': "
                                    + e);
                }
            }
        }
        out.sort(null);
        return out;
    }

    private static void entriesPinning(
            Thread thread, Object map, ClassLoader loader, List<String> out)
            throws ReflectiveOperationException {
        if (map == null) {
            return;
        }
        Field tableField = map.getClass().getDeclaredField("table");
        tableField.setAccessible(true);
        Object[] table = (Object[]) tableField.get(map);
        if (table == null) {
            return;
        }
        for (Object entry : table) {
            if (entry == null) {
                continue;
            }
            Field valueField = entry.getClass().getDeclaredField("value");
            valueField.setAccessible(true);
            Object value = valueField.get(entry);
            Object key = ((java.lang.ref.Reference<?>) entry).get();
            if (belongs(key, loader) || belongs(value, loader)) {
                out.add(
                        "thread '"
                                + thread.getName()
                                + "': ThreadLocal "
                                + (key == null ? "(collected)" : key.getClass().getName())
                                + " = "
                                + (value == null ? "null" : value.getClass().getName()));
            }
        }
    }

    private static Field threadTarget() {
        try {
            Field f = Thread.class.getDeclaredField("target");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private static Object targetOf(Field target, Thread t) {
        try {
            return target == null ? null : target.get(t);
        } catch (IllegalAccessException e) {
            return null;
        }
    }

    private static boolean belongs(Object o, ClassLoader loader) {
        return o != null && o.getClass().getClassLoader() == loader;
    }

    private static volatile boolean warned;

    private static void warnOnce(String message) {
        if (!warned) {
            warned = true;
            log.warn(message);
        }
    }
}

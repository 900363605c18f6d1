package dev.quiver.testkit;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Releases the JVM shutdown hooks a plugin registered, as the Quiver host does when it unloads a
 * plugin (ONNX Runtime's {@code OrtEnvironment} registers one that would otherwise hold the
 * plugin's class loader for the life of the JVM): each hook whose thread class, {@code Runnable}
 * class or context class loader is the plugin's is removed and run.
 *
 * <p>Needs {@code --add-opens java.base/java.lang=ALL-UNNAMED}, as the host does.
 */
final class ShutdownHooks {

    private ShutdownHooks() {}

    /**
     * @return the hooks released, or a message saying why the hooks cannot be inspected
     */
    static Object release(ClassLoader loader) {
        List<Thread> hooks;
        Field target;
        try {
            Class<?> holder = Class.forName("java.lang.ApplicationShutdownHooks");
            Field hooksField = holder.getDeclaredField("hooks");
            hooksField.setAccessible(true);
            target = Thread.class.getDeclaredField("target");
            target.setAccessible(true);
            synchronized (holder) {
                hooks = new ArrayList<>();
                for (Object t : ((Map<?, ?>) hooksField.get(null)).keySet()) {
                    hooks.add((Thread) t);
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "cannot inspect JVM shutdown hooks without --add-opens"
                    + " java.base/java.lang=ALL-UNNAMED ("
                    + e
                    + ")";
        }
        var released = new ArrayList<String>();
        for (Thread hook : hooks) {
            Object runnable;
            try {
                runnable = target.get(hook);
            } catch (IllegalAccessException e) {
                continue;
            }
            boolean plugins =
                    hook.getClass().getClassLoader() == loader
                            || (runnable != null && runnable.getClass().getClassLoader() == loader)
                            || hook.getContextClassLoader() == loader;
            if (plugins && Runtime.getRuntime().removeShutdownHook(hook)) {
                hook.run();
                released.add(
                        runnable == null
                                ? hook.getClass().getName()
                                : runnable.getClass().getName());
            }
        }
        return released;
    }
}

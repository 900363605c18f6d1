package dev.quiver.host.plugin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@link GuardedEnsemble} and {@link GuardedSizing} share to forward {@code exportState} and
 * {@code restoreState} (plugins-api 1.3.0): whether the plugin implements them, and what makes an
 * export garbage.
 */
final class StateCalls {

    private StateCalls() {}

    /**
     * Whether {@code delegate}'s class implements {@code method(Path)} itself rather than taking
     * the api's default (a plugin built against an api before 1.3.0 never does).
     */
    static boolean implemented(Object delegate, Class<?> api, String method) {
        try {
            return delegate.getClass().getMethod(method, Path.class).getDeclaringClass() != api;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(
                    delegate.getClass().getName() + " has no public " + method + "(Path)", e);
        }
    }

    /**
     * What is wrong with the files an export returned, or null: at least one, the first {@code
     * <name>.state.json}, each an existing file directly in {@code dir}.
     */
    static String exportProblem(List<Path> files, Path dir, String name) {
        if (files == null || files.isEmpty()) {
            return "returned " + files + ", not [" + name + ".state.json, ...]";
        }
        if (!files.get(0).getFileName().toString().equals(name + ".state.json")) {
            return "returned " + files + ", whose first file is not " + name + ".state.json";
        }
        Path folder = dir.toAbsolutePath().normalize();
        for (Path f : files) {
            Path parent = f.toAbsolutePath().normalize().getParent();
            if (!folder.equals(parent) || !Files.isRegularFile(f)) {
                return "returned " + f + ", which is not a file it wrote in " + dir;
            }
        }
        return null;
    }
}

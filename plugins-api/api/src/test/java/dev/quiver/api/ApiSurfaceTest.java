package dev.quiver.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Golden listing of the public API (JUnit's {@code jar-describe-module} idea, for Maven). A change
 * to the contract fails here until {@code src/test/resources/api-surface.txt} is updated
 * deliberately, with the matching semantic-version bump of {@code quiver-plugins-api}.
 */
class ApiSurfaceTest {

    @Test
    void publicApiMatchesTheReviewedListing() throws Exception {
        List<String> actual = surface();
        Path golden = Path.of("src/test/resources/api-surface.txt");
        Files.write(Path.of("target/api-surface.actual.txt"), actual, StandardCharsets.UTF_8);
        List<String> expected = Files.readAllLines(golden, StandardCharsets.UTF_8);
        var removed = new TreeSet<>(expected);
        actual.forEach(removed::remove);
        var added = new TreeSet<>(actual);
        expected.forEach(added::remove);
        assertThat(actual)
                .as(
                        "The public API of quiver-plugins-api changed.%n"
                                + "Removed or changed (needs a MAJOR bump): %s%n"
                                + "Added (MINOR bump; MAJOR if it is an abstract method on"
                                + " PredictionCapability, EnsembleCapability or"
                                + " SizingCapability): %s%n"
                                + "If intended, bump the version and copy"
                                + " target/api-surface.actual.txt over %s.",
                        removed, added, golden)
                .isEqualTo(expected);
    }

    static List<String> surface() throws IOException, URISyntaxException, ClassNotFoundException {
        Path root =
                Path.of(
                        QuiverApi.class
                                .getProtectionDomain()
                                .getCodeSource()
                                .getLocation()
                                .toURI());
        var lines = new TreeSet<String>();
        List<Path> classes;
        try (Stream<Path> files = Files.walk(root)) {
            classes = files.filter(p -> p.toString().endsWith(".class")).toList();
        }
        for (Path file : classes) {
            String name =
                    root.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
            if (name.endsWith("package-info")) {
                continue;
            }
            Class<?> c = Class.forName(name, false, ApiSurfaceTest.class.getClassLoader());
            if (!Modifier.isPublic(c.getModifiers())) {
                continue;
            }
            String type = c.getName();
            lines.add(
                    type
                            + " :: "
                            + Modifier.toString(c.getModifiers())
                            + " "
                            + kind(c)
                            + supertypes(c));
            for (Constructor<?> k : c.getDeclaredConstructors()) {
                if (Modifier.isPublic(k.getModifiers())) {
                    lines.add(type + " :: " + k.toGenericString());
                }
            }
            for (Method m : c.getDeclaredMethods()) {
                if (Modifier.isPublic(m.getModifiers()) && !m.isSynthetic()) {
                    lines.add(type + " :: " + m.toGenericString());
                }
            }
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isPublic(f.getModifiers())) {
                    lines.add(type + " :: " + f.toGenericString());
                }
            }
        }
        return new ArrayList<>(lines);
    }

    private static String kind(Class<?> c) {
        if (c.isAnnotation()) {
            return "@interface";
        }
        if (c.isRecord()) {
            return "record";
        }
        return c.isInterface() ? "interface" : "class";
    }

    private static String supertypes(Class<?> c) {
        var out = new StringBuilder();
        if (c.getSuperclass() != null
                && c.getSuperclass() != Object.class
                && c.getSuperclass() != Record.class) {
            out.append(" extends ").append(c.getSuperclass().getName());
        }
        for (Class<?> i : c.getInterfaces()) {
            if (!c.isAnnotation()) {
                out.append(" implements ").append(i.getName());
            }
        }
        return out.toString();
    }
}

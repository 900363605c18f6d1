package dev.quiver.host.registry;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A registered model reference: {@code models:/NAME@ALIAS} or {@code models:/NAME/VERSION}.
 *
 * @param name registered model name ({@code [A-Za-z0-9._-]}, not starting with a dot)
 * @param alias alias, when the URI names one
 * @param version version number, when the URI names one
 */
public record ModelUri(String name, Optional<String> alias, Optional<String> version) {

    private static final Pattern FORM =
            Pattern.compile(
                    "models:/([A-Za-z0-9_-][A-Za-z0-9._-]*)(?:@([A-Za-z0-9_-]+)|/([0-9]+))");

    /**
     * Parses.
     *
     * @param uri {@code models:/quiver-lstm@champion} or {@code models:/quiver-lstm/3}
     * @return the reference
     * @throws IllegalArgumentException naming the expected forms
     */
    public static ModelUri parse(String uri) {
        Matcher m = FORM.matcher(uri);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_MODEL_URI] '"
                            + uri
                            + "' is not models:/NAME@ALIAS or models:/NAME/VERSION (NAME of"
                            + " letters, digits, '.', '_', '-')");
        }
        return new ModelUri(
                m.group(1), Optional.ofNullable(m.group(2)), Optional.ofNullable(m.group(3)));
    }

    @Override
    public String toString() {
        return "models:/"
                + name
                + alias.map(a -> "@" + a).orElse("")
                + version.map(v -> "/" + v).orElse("");
    }
}

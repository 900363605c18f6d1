package dev.quiver.testkit.fake;

import dev.quiver.api.error.QuiverInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The fakes' state files: one flat JSON object written and read by hand. */
final class StateText {

    private StateText() {}

    static Path write(Path dir, String name, String json) {
        Path file = dir.resolve(name + ".state.json");
        try {
            Files.writeString(file, json, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return file;
    }

    static String read(Path dir, String name) {
        Path file = dir.resolve(name + ".state.json");
        try {
            String json = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (!json.endsWith("}")) {
                throw new QuiverInputException(
                        "BAD_STATE", "(end)", file.toString(), json.length(), "is truncated");
            }
            return json;
        } catch (NoSuchFileException e) {
            throw new QuiverInputException(
                    "BAD_STATE", "(file)", file.toString(), null, "is missing");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    static String text(String json, String field, Path where) {
        Matcher m = Pattern.compile("\"" + field + "\"\\s*:\\s*\"?([^,}\"\\s]+)\"?").matcher(json);
        if (!m.find()) {
            throw new QuiverInputException(
                    "BAD_STATE", field, where.toString(), null, "is missing");
        }
        return m.group(1);
    }

    static double number(String json, String field, Path where) {
        String v = text(json, field, where);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new QuiverInputException(
                    "BAD_STATE", field, where.toString(), v, "is not a number");
        }
    }
}

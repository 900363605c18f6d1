package dev.quiver.api;

import dev.quiver.api.error.QuiverInputException;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * An unmodifiable map from names to {@code double} values, for a {@link
 * dev.quiver.api.prediction.Forecast}'s details or a {@link dev.quiver.api.sizing.SizingDecision}'s
 * inputs made on every bar: the names are fixed once ({@link #names}) and each map holds one array
 * of values, where {@link Map#of} boxes every value and hashes every name per call. {@code
 * Forecast} and {@code SizingDecision} keep such a map as it is instead of copying it. Values are
 * boxed only when read through the {@link Map} view; {@link #value(int)} reads them unboxed.
 *
 * <p>Iterates in the order of its names. Equal to any {@link Map} with the same entries ({@link
 * AbstractMap}'s {@code equals} and {@code hashCode}). Immutable and thread-safe.
 *
 * <pre>{@code
 * static final NamedValues.Names DETAILS = NamedValues.names("rsi_14", "score");
 * ... new Forecast(name, time, 1, p, DETAILS.of(rsi, score));
 * }</pre>
 *
 * @since 1.5.0
 */
@Stable(since = "1.5.0")
public final class NamedValues extends AbstractMap<String, Double> {

    private final Names names;
    private final double[] values;

    private NamedValues(Names names, double[] values) {
        this.names = names;
        this.values = values;
    }

    /**
     * The names of a kind of map, fixed once (typically in a {@code static final} field).
     *
     * @param names distinct, non-blank
     * @return the names, to make maps with {@link Names#of}
     * @throws QuiverInputException with code {@code BAD_NAMES} if a name is null, blank or repeated
     * @since 1.5.0
     */
    public static Names names(String... names) {
        return new Names(names.clone());
    }

    /**
     * Fixed names of {@link NamedValues} maps.
     *
     * @since 1.5.0
     */
    @Stable(since = "1.5.0")
    public static final class Names {
        private final String[] names;

        private Names(String[] names) {
            for (int i = 0; i < names.length; i++) {
                String n = names[i];
                if (n == null || n.isBlank()) {
                    throw new QuiverInputException(
                            "BAD_NAMES", "names[" + i + "]", "NamedValues.names", n, "is blank");
                }
                for (int j = 0; j < i; j++) {
                    if (names[j].equals(n)) {
                        throw new QuiverInputException(
                                "BAD_NAMES",
                                "names[" + i + "]",
                                "NamedValues.names",
                                n,
                                "repeats names[" + j + "]");
                    }
                }
            }
            this.names = names;
        }

        /**
         * A map of these names to {@code values}, in order (copied).
         *
         * @param values one per name, any doubles (whoever receives the map checks them, e.g.
         *     {@code Forecast} requires finite details)
         * @return the map
         * @throws QuiverInputException with code {@code BAD_NAMES} if the count differs from the
         *     names'
         * @since 1.5.0
         */
        public NamedValues of(double... values) {
            if (values.length != names.length) {
                throw new QuiverInputException(
                        "BAD_NAMES",
                        "values",
                        "NamedValues of " + Arrays.toString(names),
                        values.length,
                        "must hold one value per name (" + names.length + ")");
            }
            return new NamedValues(this, values.clone());
        }

        /**
         * The names, in order.
         *
         * @return unmodifiable
         * @since 1.5.0
         */
        public List<String> list() {
            return List.of(names);
        }
    }

    /**
     * The {@code i}-th name.
     *
     * @param i in {@code [0, size())}
     * @return the name
     * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, size())}
     * @since 1.5.0
     */
    public String name(int i) {
        return names.names[i];
    }

    /**
     * The {@code i}-th value, unboxed.
     *
     * @param i in {@code [0, size())}
     * @return the value
     * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, size())}
     * @since 1.5.0
     */
    public double value(int i) {
        return values[i];
    }

    @Override
    public int size() {
        return values.length;
    }

    private int indexOf(Object key) {
        String[] n = names.names;
        for (int i = 0; i < n.length; i++) {
            if (n[i].equals(key)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public boolean containsKey(Object key) {
        return indexOf(key) >= 0;
    }

    @Override
    public Double get(Object key) {
        int i = indexOf(key);
        return i < 0 ? null : values[i];
    }

    @Override
    public Set<Entry<String, Double>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public int size() {
                return values.length;
            }

            @Override
            public Iterator<Entry<String, Double>> iterator() {
                return new Iterator<>() {
                    private int next;

                    @Override
                    public boolean hasNext() {
                        return next < values.length;
                    }

                    @Override
                    public Entry<String, Double> next() {
                        if (next >= values.length) {
                            throw new NoSuchElementException();
                        }
                        int i = next++;
                        return new SimpleImmutableEntry<>(names.names[i], values[i]);
                    }
                };
            }
        };
    }
}

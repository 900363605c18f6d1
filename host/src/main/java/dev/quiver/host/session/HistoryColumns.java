package dev.quiver.host.session;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A session's history as columns, the shape uPlot draws: one array per series, the same length,
 * index {@code i} the {@code i}-th stepped bar, read straight from the journal (no per-bar object).
 * The Live and Account pages ask for it ({@code GET /v1/sessions/{symbol}/history?format=columns})
 * so that 10,000 bars arrive as a few compact arrays instead of 10,000 entries each carrying every
 * policy's reason text, and each chart is drawn from them once.
 *
 * <p>Only what the pages draw: {@code time} (bar start, epoch seconds), {@code close}, {@code p_up}
 * and {@code agreement} ({@code null} where the bar had no signal), {@code sources} (per source its
 * p_up, {@code null} where it gave none), and {@code policies} (per policy {@code ordered} as 0/1,
 * {@code equity}, {@code drawdown}); the full entries ({@link SessionAnswers#historyEntry}) of the
 * last {@value #RECENT} bars ride along as {@code recent} for the recent-decisions table. A page
 * asks only for the {@link Field}s it draws, and for the acting policy's columns only ({@link
 * #of}).
 *
 * <p>Values are drawn, not computed with: prices and equity are sent at single precision (about 7
 * significant digits, JSON's shortest form of a {@code float}); probabilities, agreement and
 * drawdown (fractions in {@code [0, 1]}) to 4 decimals ({@value #FRACTION_DECIMALS}: 1e-4, a
 * fiftieth of a pixel on the pages' 240-pixel charts). That halves the answer against doubles' 17
 * digits; the entries ({@code format=entries}) carry every figure exactly.
 */
public final class HistoryColumns {

    /** Full entries kept beside the columns, newest last. */
    static final int RECENT = 30;

    /** Decimals of the fraction columns (p_up, agreement, each source's p_up, drawdown). */
    static final int FRACTION_DECIMALS = 4;

    /** The columns a page can ask for ({@code fields=}); {@code time} always comes. */
    public enum Field {
        /** The bar's close, quote currency. */
        CLOSE,
        /** The fused p_up. */
        P_UP,
        /** The sources' agreement. */
        AGREEMENT,
        /** Each source's p_up. */
        SOURCES,
        /** Per policy, whether the bar's decision ordered (0/1). */
        ORDERED,
        /** Per policy, its book's equity. */
        EQUITY,
        /** Per policy, its book's drawdown from the high-water mark, a fraction. */
        DRAWDOWN;

        /** The name in the query and the answer: {@code p_up}. */
        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * Fields from a comma-separated list of their keys.
         *
         * @param text e.g. {@code close,p_up,sources}; null or empty for every field
         * @return the fields named
         * @throws QuiverInputException {@code BAD_REQUEST} naming {@code fields} and the unknown
         *     key
         */
        public static Set<Field> parse(String text) {
            if (text == null || text.isEmpty()) {
                return EnumSet.allOf(Field.class);
            }
            Set<Field> out = EnumSet.noneOf(Field.class);
            for (String key : text.split(",", -1)) {
                Field f =
                        Arrays.stream(values())
                                .filter(v -> v.key().equals(key))
                                .findFirst()
                                .orElseThrow(
                                        () ->
                                                new QuiverInputException(
                                                        "BAD_REQUEST",
                                                        "fields",
                                                        "history columns",
                                                        text,
                                                        "names '"
                                                                + key
                                                                + "', not one of "
                                                                + Arrays.stream(values())
                                                                        .map(Field::key)
                                                                        .toList()));
                out.add(f);
            }
            return out;
        }
    }

    private HistoryColumns() {}

    /**
     * The last {@code min(limit, journal size)} stepped bars of {@code s}; under its monitor.
     *
     * @param s the session
     * @param limit the most bars
     * @param fields the columns wanted beside {@code time}
     * @param actingOnly the acting policy's columns only (else every policy's)
     */
    static Map<String, Object> of(LiveSession s, int limit, Set<Field> fields, boolean actingOnly) {
        int n = Math.min(limit, s.journal.size());
        boolean sourcesWanted = fields.contains(Field.SOURCES);
        boolean policiesWanted =
                fields.contains(Field.ORDERED)
                        || fields.contains(Field.EQUITY)
                        || fields.contains(Field.DRAWDOWN);
        long[] time = new long[n];
        float[] close = new float[n];
        float[] pUp = new float[n];
        float[] agreement = new float[n];
        Map<String, float[]> sources = new LinkedHashMap<>();
        Map<String, PolicyColumns> policies = new LinkedHashMap<>();
        List<LiveSession.Stepped> recent = new ArrayList<>(Math.min(n, RECENT));
        Iterator<LiveSession.Stepped> it = s.journal.iterator();
        for (int skip = s.journal.size() - n; skip > 0; skip--) {
            it.next();
        }
        for (int i = 0; i < n; i++) {
            LiveSession.Stepped x = it.next();
            Step step = x.step();
            time[i] = step.barTime().getEpochSecond();
            close[i] = (float) x.bar().close();
            if (step.signal() != null) {
                pUp[i] = (float) step.signal().probabilityUp();
                agreement[i] = (float) step.signal().agreement();
                if (sourcesWanted) {
                    for (SourceContribution c : step.signal().contributions()) {
                        sources.computeIfAbsent(c.source(), k -> nans(n))[i] =
                                (float) c.probabilityUp();
                    }
                }
            } else {
                pUp[i] = Float.NaN;
                agreement[i] = Float.NaN;
            }
            if (policiesWanted) {
                List<PolicyStep> steps = step.policies();
                for (int p = 0; p < steps.size(); p++) {
                    if (actingOnly && p != s.acting) {
                        continue;
                    }
                    PolicyStep ps = steps.get(p);
                    PolicyColumns cols =
                            policies.computeIfAbsent(ps.policy(), k -> new PolicyColumns(n));
                    cols.ordered[i] = ps.ordered() ? 1 : 0;
                    cols.equity[i] = (float) ps.equity();
                    cols.drawdown[i] = (float) ps.drawdown();
                }
            }
            if (i >= n - RECENT) {
                recent.add(x);
            }
        }
        Map<String, Object> columns = new LinkedHashMap<>();
        columns.put("time", time);
        if (fields.contains(Field.CLOSE)) {
            columns.put(Field.CLOSE.key(), new Column(close, -1));
        }
        if (fields.contains(Field.P_UP)) {
            columns.put(Field.P_UP.key(), new Column(pUp, FRACTION_DECIMALS));
        }
        if (fields.contains(Field.AGREEMENT)) {
            columns.put(Field.AGREEMENT.key(), new Column(agreement, FRACTION_DECIMALS));
        }
        if (sourcesWanted) {
            Map<String, Column> out = new LinkedHashMap<>();
            sources.forEach((k, v) -> out.put(k, new Column(v, FRACTION_DECIMALS)));
            columns.put(Field.SOURCES.key(), out);
        }
        if (policiesWanted) {
            Map<String, Map<String, Object>> out = new LinkedHashMap<>();
            policies.forEach(
                    (k, v) -> {
                        Map<String, Object> cols = new LinkedHashMap<>();
                        if (fields.contains(Field.ORDERED)) {
                            cols.put(Field.ORDERED.key(), v.ordered);
                        }
                        if (fields.contains(Field.EQUITY)) {
                            cols.put(Field.EQUITY.key(), new Column(v.equity, -1));
                        }
                        if (fields.contains(Field.DRAWDOWN)) {
                            cols.put(
                                    Field.DRAWDOWN.key(),
                                    new Column(v.drawdown, FRACTION_DECIMALS));
                        }
                        out.put(k, cols);
                    });
            columns.put("policies", out);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("symbol", s.settings.symbol());
        m.put("account", s.account.id());
        m.put("generation", s.generation);
        m.put("acting_policy", s.settings.policy());
        m.put("policies", s.strategy.strategy().policyNames());
        m.put("kept_bars", LiveSession.JOURNAL_BARS);
        m.put("count", n);
        m.put("columns", columns);
        List<Map<String, Object>> entries = new ArrayList<>(recent.size());
        for (LiveSession.Stepped x : recent) {
            entries.add(SessionAnswers.historyEntry(s, x.bar(), x.step()));
        }
        m.put("recent", entries);
        return m;
    }

    private static float[] nans(int n) {
        float[] a = new float[n];
        Arrays.fill(a, Float.NaN);
        return a;
    }

    /** One policy's columns. */
    private static final class PolicyColumns {
        final int[] ordered;
        final float[] equity;
        final float[] drawdown;

        PolicyColumns(int n) {
            ordered = new int[n];
            equity = nans(n);
            drawdown = nans(n);
        }
    }

    /**
     * A column of floats written as a JSON array: NaN (no value) as {@code null}, the others at
     * single precision ({@code decimals < 0}) or rounded to {@code decimals}.
     */
    record Column(float[] values, int decimals) implements JsonSerializable {

        @Override
        public void serialize(JsonGenerator gen, SerializerProvider serializers)
                throws IOException {
            gen.writeStartArray(values, values.length);
            char[] text = new char[24];
            for (float v : values) {
                if (Float.isNaN(v)) {
                    gen.writeNull();
                } else if (decimals < 0) {
                    gen.writeNumber(v);
                } else {
                    int len = fixed(v, decimals, text);
                    gen.writeNumber(text, 0, len);
                }
            }
            gen.writeEndArray();
        }

        /**
         * {@code v} rounded to {@code decimals} (at most 9) in plain decimal notation, trailing
         * zeros dropped ({@code 0.5173}, {@code 0.5}, {@code 1}, {@code -0.0012}) into {@code out}
         * (24 chars); its length. Integer arithmetic: no general float formatting per value.
         */
        static int fixed(float v, int decimals, char[] out) {
            long scale = 1;
            for (int d = 0; d < decimals; d++) {
                scale *= 10;
            }
            long k = Math.round((double) v * scale);
            int len = 0;
            if (k < 0) {
                out[len++] = '-';
                k = -k;
            }
            long whole = k / scale;
            long frac = k % scale;
            String w = Long.toString(whole);
            w.getChars(0, w.length(), out, len);
            len += w.length();
            if (frac != 0) {
                int digits = decimals;
                while (frac % 10 == 0) {
                    frac /= 10;
                    digits--;
                }
                out[len++] = '.';
                for (int d = digits - 1; d >= 0; d--) {
                    out[len + d] = (char) ('0' + frac % 10);
                    frac /= 10;
                }
                len += digits;
            }
            return len;
        }

        @Override
        public void serializeWithType(
                JsonGenerator gen, SerializerProvider serializers, TypeSerializer typeSer)
                throws IOException {
            serialize(gen, serializers);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Column c
                    && c.decimals == decimals
                    && Arrays.equals(c.values, values);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(values) + decimals;
        }

        @Override
        public String toString() {
            return "Column[" + values.length + " values, decimals " + decimals + "]";
        }
    }
}

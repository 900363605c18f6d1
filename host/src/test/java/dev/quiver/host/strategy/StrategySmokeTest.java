package dev.quiver.host.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which bars become smoke cases, and the file's round trip and refusals (no plugins needed). */
class StrategySmokeTest {

    static final BarData BTC = BundledData.BTC_USD_4H.load();

    @TempDir Path dir;

    @Test
    void casesAreTheFirstBarsTheBundleServesWhenTheSeriesGoesOn() {
        int fitted = 1000;
        Instant servesFrom = BTC.bar(fitted).start();
        StrategySmoke.Window w = StrategySmoke.casesFor(BTC, fitted, servesFrom, 8);
        assertThat(w.first()).isEqualTo(fitted);
        assertThat(w.count()).isEqualTo(8);
        assertThat(w.window()).isEqualTo("after-fit");
    }

    @Test
    void fewerBarsAfterTheFitGiveFewerCases() {
        BarData series = BTC.truncate(1003);
        StrategySmoke.Window w = StrategySmoke.casesFor(series, 1000, series.bar(1000).start(), 8);
        assertThat(w.first()).isEqualTo(1000);
        assertThat(w.count()).isEqualTo(3);
    }

    @Test
    void withoutBarsAfterTheFitTheLastFittedBarsAreUsed() {
        BarData series = BTC.truncate(1000);
        Instant servesFrom = series.bar(999).start().plus(series.period());
        StrategySmoke.Window w = StrategySmoke.casesFor(series, 1000, servesFrom, 8);
        assertThat(w.first()).isEqualTo(992);
        assertThat(w.count()).isEqualTo(8);
        assertThat(w.window()).isEqualTo("fitted-bars");
        assertThat(w.note()).contains("decline bars of their training span");
    }

    private StrategySmoke twoCases() {
        return new StrategySmoke(
                "a".repeat(64),
                "btc-usd-4h",
                BTC.period(),
                "after-fit",
                "two bars",
                1e-6,
                3,
                List.of(BTC.bar(0), BTC.bar(1), BTC.bar(2), BTC.bar(3), BTC.bar(4)),
                List.of(
                        new StrategySmoke.Case(
                                BTC.bar(3).start(),
                                0.5123,
                                null,
                                Map.of("xgboost", 0.49),
                                List.of("lstm"),
                                Map.of("fixed", 0.5, "kelly", 0.0312)),
                        new StrategySmoke.Case(
                                BTC.bar(4).start(),
                                Double.NaN,
                                "no forecast available (every source failed) -> flat",
                                Map.of(),
                                List.of("lstm", "xgboost"),
                                Map.of("fixed", 0.0, "kelly", 0.0))));
    }

    @Test
    void writesAndReadsBackTheSameSet() throws IOException {
        Path f = dir.resolve("smoke.json");
        StrategySmoke s = twoCases();
        s.write(f);
        StrategySmoke back = StrategySmoke.read(f);
        assertThat(back.bars()).isEqualTo(s.bars());
        assertThat(back.cases().get(0)).isEqualTo(s.cases().get(0));
        assertThat(back.cases().get(1).probabilityUp()).isNaN();
        assertThat(back.cases().get(1).noSignal()).isEqualTo(s.cases().get(1).noSignal());
        assertThat(back.warmUpBars()).isEqualTo(3);
    }

    @Test
    void aMalformedFileIsRefusedNamingTheField() throws IOException {
        Path f = dir.resolve("smoke.json");
        twoCases().write(f);
        String text = Files.readString(f);
        Files.writeString(
                f,
                text.replace(
                        "\"bar_time\" : \"" + BTC.bar(4).start(),
                        "\"bar_time\" : \"" + BTC.bar(9).start()));
        assertThatThrownBy(() -> StrategySmoke.read(f))
                .hasMessageContaining("[Quiver/BAD_SMOKE]")
                .hasMessageContaining("cases[1].bar_time")
                .hasMessageContaining("the case's bar starts at " + BTC.bar(4).start());

        Files.writeString(f, text.replace("\"kelly\" : 0.0312", "\"kelly\" : \"high\""));
        assertThatThrownBy(() -> StrategySmoke.read(f))
                .hasMessageContaining("cases[0].fractions.kelly")
                .hasMessageContaining("not a number");

        Files.writeString(f, text.replace("quiver-strategy-smoke/1", "quiver-smoke/1"));
        assertThatThrownBy(() -> StrategySmoke.read(f))
                .hasMessageContaining("field 'format' must be quiver-strategy-smoke/1");
    }
}

package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.store.AccountMode;
import dev.quiver.host.store.StateStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SessionManager.StepObserver}: while it is not {@linkplain
 * SessionManager.StepObserver#listening() listening} a stepped bar is not passed to it (no history
 * entry built); while it listens every bar stepped live is, with the entry {@code GET .../history}
 * lists for that bar.
 */
class SessionStepObserverTest {

    static final BarData BTC = BundledData.BTC_USD_4H.load();
    static final int FIRST = 2_000;

    @TempDir Path home;

    @Test
    void barsReachTheObserverOnlyWhileItListens(@TempDir Path bundleDir) {
        try (StateStore store =
                        StateStore.open(
                                Optional.of("jdbc:sqlite:" + home.resolve("state.db")), home);
                var m =
                        new SessionManager(
                                store,
                                TestStrategies.catalog(
                                        TestStrategies.bundle(bundleDir.resolve("b"))),
                                Clock.systemUTC())) {
            List<Bar> warmup = new ArrayList<>();
            for (int i = FIRST - 300; i < FIRST; i++) {
                warmup.add(BTC.bar(i));
            }
            m.open(
                    new SessionManager.OpenRequest(
                            "BTC",
                            "btc-acct",
                            "USD",
                            10_000,
                            AccountMode.PAPER,
                            Duration.ofHours(4),
                            3,
                            "fixed",
                            warmup));
            AtomicBoolean listening = new AtomicBoolean(false);
            List<String> seen = new ArrayList<>();
            List<Map<String, Object>> entries = new ArrayList<>();
            m.observer(
                    new SessionManager.StepObserver() {
                        @Override
                        public void stepped(String symbol, Map<String, Object> entry) {
                            seen.add(symbol);
                            entries.add(entry);
                        }

                        @Override
                        public boolean listening() {
                            return listening.get();
                        }
                    });
            for (int i = FIRST; i < FIRST + 5; i++) {
                m.bars("BTC", List.of(BTC.bar(i)));
            }
            assertThat(seen).as("bars stepped while nobody listened").isEmpty();
            listening.set(true);
            for (int i = FIRST + 5; i < FIRST + 8; i++) {
                m.bars("BTC", List.of(BTC.bar(i)));
            }
            assertThat(seen).containsExactly("BTC", "BTC", "BTC");
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> history =
                    (List<Map<String, Object>>) m.history("BTC", 3).get("entries");
            assertThat(entries).isEqualTo(history);
            assertThat(entries.get(2).get("bar_time"))
                    .isEqualTo(BTC.bar(FIRST + 7).start().toString());
            // The default observer is always told.
            List<String> plain = new ArrayList<>();
            m.observer((symbol, entry) -> plain.add(symbol));
            m.bars("BTC", List.of(BTC.bar(FIRST + 8)));
            assertThat(plain).containsExactly("BTC");
        }
    }
}

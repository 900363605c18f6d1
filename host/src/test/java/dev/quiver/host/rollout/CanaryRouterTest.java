package dev.quiver.host.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.TestStores;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CanaryRouterTest {

    static final int KEYS = 10_000;

    static String key(int i) {
        return "SYM" + i;
    }

    @ParameterizedTest
    @ValueSource(doubles = {1, 5, 10, 25, 50, 90})
    void shareOverTenThousandKeysIsWithinOnePointOfTheTarget(double percent) {
        int buckets = (int) Math.round(percent * 100);
        int toChallenger = 0;
        for (int i = 0; i < KEYS; i++) {
            if (CanaryRouter.toChallenger("lstm-v4", key(i), buckets)) {
                toChallenger++;
            }
        }
        double realised = 100.0 * toChallenger / KEYS;
        System.out.printf(
                "canary %.0f%%: %d of %d keys (%.2f%%)%n", percent, toChallenger, KEYS, realised);
        assertThat(realised).isBetween(percent - 1, percent + 1);
    }

    @Test
    void raisingTheShareOnlyAddsKeys() {
        for (int i = 0; i < KEYS; i++) {
            boolean at5 = CanaryRouter.toChallenger("lstm-v4", key(i), 500);
            boolean at10 = CanaryRouter.toChallenger("lstm-v4", key(i), 1000);
            if (at5) {
                assertThat(at10).as("key %s in the 5%% canary must stay at 10%%", key(i)).isTrue();
            }
        }
    }

    @Test
    void differentRolloutsPickDifferentKeys() {
        int both = 0;
        for (int i = 0; i < KEYS; i++) {
            if (CanaryRouter.toChallenger("a", key(i), 1000)
                    && CanaryRouter.toChallenger("b", key(i), 1000)) {
                both++;
            }
        }
        // Independent 10% selections overlap on ~1% of keys, not on 10%.
        assertThat(both).isBetween(50, 200);
    }

    @Test
    void bucketIsMurmur3OfIdSeparatorKey() {
        // Pinned: a change of hash would silently reshuffle every running canary.
        assertThat(CanaryRouter.bucket("lstm-v4", "BTC-USD"))
                .isEqualTo(CanaryRouter.bucket("lstm-v4", "BTC-USD"));
        assertThat(CanaryRouter.bucket("a", "bc")).isNotEqualTo(CanaryRouter.bucket("ab", "c"));
        int h =
                com.google.common.hash.Hashing.murmur3_32_fixed()
                        .hashString("lstm-v4\u001FBTC-USD", java.nio.charset.StandardCharsets.UTF_8)
                        .asInt();
        assertThat(CanaryRouter.bucket("lstm-v4", "BTC-USD"))
                .isEqualTo((int) (Integer.toUnsignedLong(h) % 10_000));
    }

    @Test
    void routingIsStickyAcrossARestartWithStateReloadedFromTheStore(@TempDir Path dir) {
        RolloutSpec spec =
                RolloutSpecTest.spec(
                        s -> s.replace("\"mode\": \"shadow\"", "\"mode\": \"canary\""));
        StateStore db = TestStores.sqlite(dir);
        RolloutManager first =
                RolloutManager.open(
                        new RolloutStore(db), Optional.empty(), java.time.Clock.systemUTC());
        RolloutController before = first.start(spec);
        Role[] routed = new Role[KEYS];
        int challenger = 0;
        for (int i = 0; i < KEYS; i++) {
            routed[i] = before.route(key(i));
            challenger += routed[i] == Role.CHALLENGER ? 1 : 0;
        }
        first.close();
        db.close();

        StateStore again = TestStores.sqlite(dir);
        RolloutManager second =
                RolloutManager.open(
                        new RolloutStore(again), Optional.empty(), java.time.Clock.systemUTC());
        RolloutController after = second.get(spec.id()).orElseThrow();
        assertThat(after).isNotSameAs(before);
        assertThat(after.stage()).isEqualTo(Stage.CANARY);
        for (int replay = 0; replay < 3; replay++) {
            for (int i = 0; i < KEYS; i++) {
                assertThat(after.route(key(i)))
                        .as("key %s on replay %d", key(i), replay)
                        .isEqualTo(routed[i]);
            }
        }
        assertThat(100.0 * challenger / KEYS).isBetween(9.0, 11.0);
        second.close();
        again.close();
    }
}

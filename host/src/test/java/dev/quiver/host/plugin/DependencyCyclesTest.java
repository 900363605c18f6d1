package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DependencyCyclesTest {

    @Test
    void headersParseToIdsWithoutVersionsOrOptionalMarkers() {
        assertThat(DependencyCycles.parse("a@>=1.0.0, b?@1.2.0 ,c?, d"))
                .containsExactly("a", "b", "c", "d");
        assertThat(DependencyCycles.parse(null)).isEmpty();
        assertThat(DependencyCycles.parse("  ")).isEmpty();
    }

    @Test
    void anAcyclicGraphHasNoCycles() {
        assertThat(
                        DependencyCycles.find(
                                Map.of(
                                        "a", List.of("b", "c"),
                                        "b", List.of("c"),
                                        "c", List.of(),
                                        "d", List.of("missing"))))
                .isEmpty();
    }

    @Test
    void everyMemberOfEachCycleIsNamedWithARealClosedWalk() {
        var cycles =
                DependencyCycles.find(
                        Map.of(
                                "a", List.of("b"),
                                "b", List.of("c", "x"),
                                "c", List.of("a"),
                                "x", List.of(),
                                "self", List.of("self"),
                                "p", List.of("q"),
                                "q", List.of("p"),
                                "user", List.of("a")));
        assertThat(cycles)
                .containsOnlyKeys("a", "b", "c", "self", "p", "q")
                .containsEntry("b", "a -> b -> c -> a")
                .containsEntry("self", "self -> self")
                .containsEntry("q", "p -> q -> p");
    }

    @Test
    void theWalkNeverInventsAnEdge() {
        // a -> c is a dead end for a greedy walk that prefers c; the cycle is a -> b -> a.
        var cycles =
                DependencyCycles.find(
                        Map.of(
                                "a", List.of("c", "b"),
                                "b", List.of("a"),
                                "c", List.of("d"),
                                "d", List.of("c")));
        assertThat(cycles).containsEntry("a", "a -> b -> a").containsEntry("c", "c -> d -> c");
    }
}

package dev.quiver.host.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RolloutSpecTest {

    static final String BASE =
            """
            {
              "id": "lstm-v4",
              "capability": {"kind": "prediction", "name": "lstm", "plugin": "prediction-lstm"},
              "champion": {"model": "models:/quiver-lstm/3"},
              "challenger": {"model": "models:/quiver-lstm/4"},
              "mode": "shadow",
              "routing": {"key": "symbol", "canary_percent": 10},
              "rules": {"metric": "log_loss", "min_samples": 300, "test": "auto", "alpha": 0.05,
                        "cost_bps": 15, "automatic": true}
            }
            """;

    static RolloutSpec spec(UnaryOperator<String> edit) {
        return RolloutSpec.parse(edit.apply(BASE), "test.json", null);
    }

    @Test
    void readsEveryField() {
        RolloutSpec s = spec(x -> x);
        assertThat(s.id()).isEqualTo("lstm-v4");
        assertThat(s.kind()).isEqualTo(RolloutSpec.Kind.PREDICTION);
        assertThat(s.capability()).isEqualTo("lstm");
        assertThat(s.plugin()).isEqualTo("prediction-lstm");
        assertThat(s.champion().model()).hasValue("models:/quiver-lstm/3");
        assertThat(s.challenger().modelUri().orElseThrow().version()).hasValue("4");
        assertThat(s.mode()).isEqualTo(Stage.SHADOW);
        assertThat(s.canaryBuckets()).isEqualTo(1000);
        assertThat(s.rules())
                .isEqualTo(
                        new RolloutSpec.Rules(
                                Metric.LOG_LOSS, 300, TestKind.AUTO, 0.05, 15, true, 0));
    }

    @Test
    void roundTripsThroughItsJson() {
        RolloutSpec s =
                spec(
                        x ->
                                x.replace(
                                        "\"challenger\": {\"model\": \"models:/quiver-lstm/4\"}",
                                        "\"challenger\": {\"plugin_zip\": \"/opt/p/prediction-lstm-1.1.0.zip\", \"config\": {\"k\": 50}}"));
        assertThat(RolloutSpec.parse(s.toJson(), "again", null)).isEqualTo(s);
        assertThat(s.challenger().config()).containsEntry("k", "50");
        RolloutSpec horizon =
                spec(
                        x ->
                                x.replace(
                                        "\"automatic\": true",
                                        "\"automatic\": true, \"max_looks\": 4"));
        assertThat(horizon.rules().maxLooks()).isEqualTo(4);
        assertThat(RolloutSpec.parse(horizon.toJson(), "again", null)).isEqualTo(horizon);
        assertThat(s.rules().maxLooks()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "\"id\": \"lstm-v4\"|\"id\": \"LSTM V4\"|id",
                "\"kind\": \"prediction\"|\"kind\": \"ensemble\"|capability.kind",
                "\"name\": \"lstm\",|\"name\": \"\",|capability.name",
                "\"models:/quiver-lstm/4\"|\"models:/quiver-lstm@challenger\"|challenger.model",
                "\"models:/quiver-lstm/3\"|\"s3://bucket/model\"|champion.model",
                "\"models:/quiver-lstm/4\"|\"models:/quiver-lstm/3\"|challenger",
                "\"mode\": \"shadow\"|\"mode\": \"completed\"|mode",
                "\"canary_percent\": 10|\"canary_percent\": 150|routing.canary_percent",
                "\"canary_percent\": 10|\"canary_percent\": 10.005|routing.canary_percent",
                "\"canary_percent\": 10|\"canary_percent\": \"10\"|routing.canary_percent",
                "\"key\": \"symbol\"|\"key\": \"user\"|routing.key",
                "\"metric\": \"log_loss\"|\"metric\": \"sharpe\"|rules.metric",
                "\"min_samples\": 300|\"min_samples\": 5|rules.min_samples",
                "\"min_samples\": 300|\"min_samples\": 300.5|rules.min_samples",
                "\"test\": \"auto\"|\"test\": \"ks\"|rules.test",
                "\"alpha\": 0.05|\"alpha\": 0|rules.alpha",
                "\"alpha\": 0.05|\"alpha\": 0.7|rules.alpha",
                "\"cost_bps\": 15|\"cost_bps\": -1|rules.cost_bps",
                "\"automatic\": true|\"automatic\": \"yes\"|rules.automatic",
                "\"automatic\": true|\"automatic\": true, \"max_looks\": 0|rules.max_looks",
                "\"automatic\": true|\"automatic\": true, \"max_looks\": 2.5|rules.max_looks",
                "\"automatic\": true|\"automatic\": true, \"min_sample\": 3|rules.min_sample",
                "\"mode\": \"shadow\",|\"mode\": \"shadow\", \"modes\": 1,|modes",
            })
    void badSpecIsRefusedNamingTheField(String from, String to, String field) {
        String json = BASE.replace(from, to);
        assertThat(json).isNotEqualTo(BASE);
        assertThatThrownBy(() -> RolloutSpec.parse(json, "spec.json", null))
                .isInstanceOf(RolloutSpecException.class)
                .hasMessageStartingWith(
                        "[Quiver/BAD_ROLLOUT_SPEC] spec.json: field '" + field + "'")
                .satisfies(e -> assertThat(((RolloutSpecException) e).field()).isEqualTo(field));
    }

    @Test
    void missingFieldsAndBrokenJsonAreNamed() {
        assertThatThrownBy(
                        () -> RolloutSpec.parse(BASE.replace("\"rules\"", "\"rulez\""), "s", null))
                .hasMessageContaining("field 'rulez' is not a known field");
        String noRules = BASE.substring(0, BASE.indexOf(",\n  \"rules\"")) + "}";
        assertThatThrownBy(() -> RolloutSpec.parse(noRules, "s", null))
                .hasMessageContaining("field 'rules' is missing");
        assertThatThrownBy(() -> RolloutSpec.parse("{\"id\": ", "s", null))
                .hasMessageContaining("field '(document)' is not valid JSON");
    }

    @Test
    void sizingRolloutsMustScorePnl() {
        String sizing = BASE.replace("\"kind\": \"prediction\"", "\"kind\": \"sizing\"");
        assertThatThrownBy(() -> RolloutSpec.parse(sizing, "s", null))
                .hasMessageContaining("field 'rules.metric' is log_loss")
                .hasMessageContaining("use pnl");
        assertThat(RolloutSpec.parse(sizing.replace("log_loss", "pnl"), "s", null).rules().metric())
                .isEqualTo(Metric.PNL);
    }

    static final String STRATEGY =
            """
            {
              "id": "strategy-7",
              "challenger": {"strategy": "models:/quiver-strategy/7"},
              "mode": "canary",
              "routing": {"key": "account", "canary_percent": 25},
              "rules": {"metric": "pnl", "min_samples": 50}
            }
            """;

    @Test
    void aStrategyRolloutNamesABundleAsChallengerAndTheServedBundleAsChampion() {
        RolloutSpec s = RolloutSpec.parse(STRATEGY, "s.json", null);
        assertThat(s.kind()).isEqualTo(RolloutSpec.Kind.STRATEGY);
        assertThat(s.capability()).isEqualTo("strategy");
        assertThat(s.challenger().strategy()).hasValue("models:/quiver-strategy/7");
        assertThat(s.challenger().strategyUri().orElseThrow().version()).hasValue("7");
        assertThat(s.challenger().modelUri()).isEmpty();
        assertThat(s.champion().strategy()).isEmpty();
        assertThat(s.champion().describe(s.plugin())).isEqualTo("the served strategy bundle");
        assertThat(s.challenger().describe(s.plugin()))
                .isEqualTo("strategy bundle models:/quiver-strategy/7");
        assertThat(s.mode()).isEqualTo(Stage.CANARY);
        assertThat(s.routingKey()).isEqualTo(RolloutSpec.RoutingKey.ACCOUNT);
        assertThat(RolloutSpec.parse(s.toJson(), "again", null)).isEqualTo(s);
        // the explicit form reads the same
        RolloutSpec explicit =
                RolloutSpec.parse(
                        STRATEGY.replace(
                                "\"challenger\"",
                                "\"capability\": {\"kind\": \"strategy\"}, \"champion\": {},"
                                        + " \"challenger\""),
                        "s.json",
                        null);
        assertThat(explicit).isEqualTo(s);
    }

    @Test
    void aStrategyFolderIsResolvedAgainstTheSpecsFolder() {
        RolloutSpec s =
                RolloutSpec.parse(
                        STRATEGY.replace("models:/quiver-strategy/7", "bundles/b7"),
                        "s.json",
                        java.nio.file.Path.of("/srv/specs"));
        assertThat(s.challenger().strategy()).hasValue("/srv/specs/bundles/b7");
        assertThat(s.challenger().strategyUri()).isEmpty();
    }

    @ParameterizedTest(name = "{2}")
    @CsvSource(
            delimiter = '|',
            value = {
                "models:/quiver-strategy/7\"}|models:/quiver-strategy@challenger\"}|challenger.strategy|names an alias",
                "\"strategy\": \"models:/quiver-strategy/7\"}|\"strategy\": \"models:/quiver-strategy/7\", \"config\": {}}|challenger.config|is not a known field",
                "\"mode\"|\"champion\": {\"model\": \"models:/x/1\"}, \"mode\"|champion|a strategy rollout's champion is the bundle the service serves",
                "\"mode\"|\"capability\": {\"kind\": \"prediction\"}, \"mode\"|capability.kind|but challenger.strategy names a strategy bundle",
                "\"strategy\": \"models:/quiver-strategy/7\"|\"strategy\": 7|challenger.strategy|must be a non-blank string"
            })
    void aBadStrategySpecIsRefusedNamingTheField(
            String from, String to, String field, String says) {
        assertThat(STRATEGY).contains(from);
        assertThatThrownBy(() -> RolloutSpec.parse(STRATEGY.replace(from, to), "s.json", null))
                .isInstanceOf(RolloutSpecException.class)
                .hasMessageContaining("field '" + field + "'")
                .hasMessageContaining(says);
    }
}

package dev.quiver.capabilities;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Version;

class CapabilityHeadersTest {

    static final String LSTM =
            "quiver.prediction; name=lstm; version:Version=1.0.0; horizon:Long=1;"
                    + " calibrated=false; feature-schema=quiver-core@1";

    @Test
    void typedAttributesInDeclarationOrder() {
        Capability c = CapabilityHeaders.parseProvide(LSTM).get(0);
        assertThat(c.namespace()).isEqualTo("quiver.prediction");
        assertThat(c.attributes())
                .containsExactly(
                        Map.entry("name", "lstm"),
                        Map.entry("version", new Version(1, 0, 0)),
                        Map.entry("horizon", 1L),
                        Map.entry("calibrated", "false"),
                        Map.entry("feature-schema", "quiver-core@1"));
        assertThat(c).hasToString(LSTM);
    }

    @Test
    void severalClausesQuotedValuesListsAndDirectives() {
        var caps =
                CapabilityHeaders.parseProvide(
                        "quiver.model; format=onnx; name=\"lstm, direction\","
                                + " quiver.sizing; name=kelly; caps:List<Double>=\"0.25,0.5\";"
                                + " uses:=quiver.prediction");
        assertThat(caps).hasSize(2);
        assertThat(caps.get(0).attribute("name")).isEqualTo("lstm, direction");
        assertThat(caps.get(1).attributes().get("caps")).isEqualTo(List.of(0.25, 0.5));
        assertThat(caps.get(1).directives()).containsEntry("uses", "quiver.prediction");
    }

    @Test
    void untypedVersionAndHorizonAreReadAsVersionAndLong() {
        Capability c =
                CapabilityHeaders.parseProvide("quiver.prediction; version=1.9.0; horizon=12")
                        .get(0);
        assertThat(c.attributes())
                .containsEntry("version", new Version(1, 9, 0))
                .containsEntry("horizon", 12L);
        assertThat(require("(&(version>=1.10.0)(horizon>=9))").matches(c)).isFalse();
        assertThat(require("(&(version>=1.2.0)(horizon>=9))").matches(c)).isTrue();
        assertThatThrownBy(() -> CapabilityHeaders.parseProvide("quiver.prediction; horizon=one"))
                .hasMessageEndingWith(
                        "attribute 'horizon' value 'one' is not a Long (For input string: \"one\")");
    }

    @Test
    void emptyHeaderMeansNothing() {
        assertThat(CapabilityHeaders.parseProvide(null)).isEmpty();
        assertThat(CapabilityHeaders.parseRequire("  ")).isEmpty();
    }

    @Test
    void filtersCompareWithTheAttributesType() {
        Capability c = CapabilityHeaders.parseProvide(LSTM).get(0);
        // Numeric, not lexical: "1" < "10" as text, 1 < 10 as Long either way; 9 >= 10 is false.
        assertThat(require("(horizon<=10)").matches(c)).isTrue();
        assertThat(require("(horizon>=2)").matches(c)).isFalse();
        // Semantic, not lexical: 1.9.0 < 1.10.0 although "1.9.0" > "1.10.0" as text.
        Capability v19 =
                CapabilityHeaders.parseProvide("quiver.prediction; version:Version=1.9.0").get(0);
        assertThat(require("(version>=1.10.0)").matches(v19)).isFalse();
        assertThat(require("(&(version>=1.0.0)(!(version>=2.0.0)))").matches(v19)).isTrue();
        assertThat(
                        require("(&(name=lstm)(calibrated=false)(feature-schema=quiver-core@*))")
                                .matches(c))
                .isTrue();
        assertThat(require("(|(name=catboost)(name=xgb))").matches(c)).isFalse();
    }

    static Requirement require(String filter) {
        return CapabilityHeaders.parseRequire("quiver.prediction; filter:=\"" + filter + "\"")
                .get(0);
    }

    @Test
    void aRequirementOfAnotherNamespaceNeverMatches() {
        Capability c = CapabilityHeaders.parseProvide(LSTM).get(0);
        Requirement r =
                CapabilityHeaders.parseRequire("quiver.sizing; filter:=\"(name=lstm)\"").get(0);
        assertThat(r.matches(c)).isFalse();
        assertThat(CapabilityHeaders.parseRequire("quiver.prediction").get(0).matches(c)).isTrue();
    }

    @Test
    void optionalResolution() {
        var r =
                CapabilityHeaders.parseRequire(
                                "quiver.model; filter:=\"(format=onnx)\"; resolution:=optional")
                        .get(0);
        assertThat(r.optional()).isTrue();
        assertThat(r.filter()).isEqualTo("(format=onnx)");
    }

    @Test
    void badFilterNamesTheClauseAndTheLibrarysReason() {
        assertThatThrownBy(
                        () ->
                                CapabilityHeaders.parseRequire(
                                        "quiver.sizing, quiver.model; filter:=\"(&(format=onnx)\""))
                .isInstanceOf(CapabilityHeaderException.class)
                .hasMessageStartingWith(
                        "Require-Capability clause 2 \"quiver.model; filter:=\"(&(format=onnx)\"\":"
                                + " filter (&(format=onnx) is not a valid LDAP filter (");
    }

    @Test
    void badTypesAndSyntaxAreNamed() {
        assertThatThrownBy(
                        () -> CapabilityHeaders.parseProvide("quiver.prediction; horizon:Long=one"))
                .hasMessage(
                        "Provide-Capability clause 1 \"quiver.prediction; horizon:Long=one\":"
                                + " attribute 'horizon' value 'one' is not a Long (For input"
                                + " string: \"one\")");
        assertThatThrownBy(() -> CapabilityHeaders.parseProvide("quiver.prediction; horizon"))
                .hasMessageEndingWith("'horizon' is neither name=value nor name:=value");
        assertThatThrownBy(() -> CapabilityHeaders.parseProvide("quiver.x; a:Bool=true"))
                .hasMessageContaining("is not a Bool (unknown type");
        assertThatThrownBy(() -> CapabilityHeaders.parseProvide("quiver.x; a=1; a=2"))
                .hasMessageEndingWith("attribute 'a' is invalid or repeated");
        assertThatThrownBy(() -> CapabilityHeaders.parseProvide("(bad); a=1"))
                .hasMessageEndingWith("namespace '(bad)' is not a symbolic name");
        assertThatThrownBy(() -> CapabilityHeaders.parseRequire("quiver.x; resolution:=maybe"))
                .hasMessageEndingWith("resolution:=maybe is neither mandatory nor optional");
    }
}

package dev.quiver.host.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ModelBindingTest {

    @Test
    void parsesAliasAndPinnedForms() {
        ModelBinding a = ModelBinding.parse("lstm=models:/quiver-lstm@champion");
        assertThat(a.capability()).isEqualTo("lstm");
        assertThat(a.model().alias()).hasValue("champion");
        assertThat(a.requested()).isEqualTo("models:/quiver-lstm@champion");
        assertThat(ModelBinding.parse("catboost=models:/quiver-catboost/3").model().version())
                .hasValue("3");
    }

    @Test
    void badFormsNameTheExpectedOne() {
        for (String bad : new String[] {"models:/x@champion", "lstm=", "=models:/x/1"}) {
            assertThatThrownBy(() -> ModelBinding.parse(bad))
                    .as(bad)
                    .hasMessageContaining("[Quiver/BAD_OPTION] --model " + bad)
                    .hasMessageContaining("CAPABILITY=models:/NAME@ALIAS");
        }
        assertThatThrownBy(() -> ModelBinding.parse("lstm=runs:/abc/model"))
                .hasMessageContaining("BAD_MODEL_URI");
    }

    @Test
    void resolverRefusalsAreClassifiedForTheMetric() {
        assertThat(LiveModels.classify("lstm.onnx is 4 bytes, ... says 9 (truncated)"))
                .isEqualTo("truncated");
        assertThat(LiveModels.classify("sha256 ... (checksum mismatch)")).isEqualTo("checksum");
        assertThat(LiveModels.classify("lstm.onnx is a Python pickle (protocol 4)"))
                .isEqualTo("format");
        assertThat(LiveModels.classify("'x' is not a plain file name (path escape or nested path)"))
                .isEqualTo("containment");
        assertThat(LiveModels.classify("something else")).isEqualTo("verify");
    }

    @Test
    void innermostRefusalOfAWrappedMessage() {
        assertThat(
                        SmokeCheck.innermost(
                                "[Quiver/EXTENSION_CREATE_FAILED] x: Unable to provision\n"
                                        + "1) [Quiver/MODEL_REFUSED] lstm.onnx: input shape [-1, 8, 3]"
                                        + " differs\n  at Foo"))
                .isEqualTo("[Quiver/MODEL_REFUSED] lstm.onnx: input shape [-1, 8, 3] differs");
    }
}

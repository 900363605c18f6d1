package dev.quiver.host.mlflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** RELIABILITY.md P17: registry credentials are required where it matters and handled safely. */
class CredentialPolicyTest {

    static final URI LOCAL = URI.create("http://127.0.0.1:5000/");
    static final URI REMOTE = URI.create("https://mlflow.example.com/");

    @Test
    void aServerOnThisMachineNeedsNoCredentials() {
        assertThat(MlflowHttp.authorization(LOCAL, Map.of())).isEmpty();
        assertThat(MlflowHttp.authorization(URI.create("http://localhost:5000/"), Map.of()))
                .isEmpty();
        assertThat(MlflowHttp.authorization(URI.create("http://[::1]:5000/"), Map.of())).isEmpty();
    }

    @Test
    void aRemoteRegistryWithoutCredentialsIsRefusedUnlessOptedIn() {
        assertThatThrownBy(() -> MlflowHttp.authorization(REMOTE, Map.of()))
                .hasMessageContaining("NO_CREDENTIALS")
                .hasMessageContaining("mlflow.example.com");
        assertThat(MlflowHttp.authorization(REMOTE, Map.of(MlflowHttp.ANONYMOUS_OPT_IN, "1")))
                .isEmpty();
    }

    @Test
    void theDefaultAdministratorPasswordIsRefusedAndNeverEchoed() {
        assertThatThrownBy(
                        () ->
                                MlflowHttp.authorization(
                                        REMOTE,
                                        Map.of(
                                                "MLFLOW_TRACKING_USERNAME", "admin",
                                                "MLFLOW_TRACKING_PASSWORD", "password1234")))
                .hasMessageContaining("DEFAULT_CREDENTIALS")
                .hasMessageNotContaining("password1234");
    }

    @Test
    void halfOfABasicCredentialIsNamedNotIgnored() {
        assertThatThrownBy(
                        () ->
                                MlflowHttp.authorization(
                                        REMOTE, Map.of("MLFLOW_TRACKING_USERNAME", "quant")))
                .hasMessageContaining("CREDENTIALS_INCOMPLETE")
                .hasMessageContaining("MLFLOW_TRACKING_PASSWORD is not");
    }

    @Test
    void aTokenOrAFullBasicCredentialIsSentAndNeverInAMessage() {
        assertThat(MlflowHttp.authorization(REMOTE, Map.of("MLFLOW_TRACKING_TOKEN", "s3cr3t")))
                .contains("Bearer s3cr3t");
        assertThat(
                        MlflowHttp.authorization(
                                REMOTE,
                                Map.of(
                                        "MLFLOW_TRACKING_USERNAME", "quant",
                                        "MLFLOW_TRACKING_PASSWORD", "s3cr3t")))
                .hasValueSatisfying(
                        h -> assertThat(h).startsWith("Basic ").doesNotContain("s3cr3t"));
    }
}

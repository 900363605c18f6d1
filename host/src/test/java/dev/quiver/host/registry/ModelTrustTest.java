package dev.quiver.host.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model signatures (RELIABILITY.md P15): what the registrar signs and what the host accepts. */
class ModelTrustTest {

    @Test
    void aSignedFolderVerifiesAndEveryChangeAfterSigningIsRefused(@TempDir Path dir)
            throws IOException {
        ModelSigner signer =
                ModelSigner.generate(dir.resolve("keys/signing.pem"), dir.resolve("trusted"));
        assertThat(
                        PosixFilePermissions.toString(
                                Files.getPosixFilePermissions(dir.resolve("keys/signing.pem"))))
                .isEqualTo("rw-------");
        ModelTrust trust =
                new ModelTrust(ModelTrust.readKeys(dir.resolve("trusted")), true, "trusted");
        assertThat(trust.refusesUnsigned()).isTrue();
        Path v = Files.createDirectories(dir.resolve("v"));
        Path model = v.resolve("catboost.cbm");
        Files.copy(ModelStoreTest.CBM, model);
        Path sidecar = v.resolve("catboost.json");
        Files.writeString(
                sidecar,
                "{\"model_file\": \"catboost.cbm\", \"model_sha256\": \""
                        + ModelStore.sha256(model)
                        + "\"}");
        Map<String, String> tags =
                new HashMap<>(ModelRegistrar.tagsFor(model, Optional.of(sidecar)));
        tags.putAll(signer.sign(tags, Optional.of(sidecar)));
        assertThat(tags).containsEntry(ModelTrust.TAG_SIGNING_KEY, signer.keyId());

        assertThat(ModelStore.verify("models:/m/1", v, tags, trust).sha256())
                .isEqualTo(tags.get(ModelStore.TAG_SHA256));
        // A key read back from its file signs the same way.
        ModelSigner again = ModelSigner.read(dir.resolve("keys/signing.pem"));
        assertThat(again.keyId()).isEqualTo(signer.keyId());

        // A signed tag changed: refused, though every checksum still holds.
        Map<String, String> task = new HashMap<>(tags);
        task.put(ModelStore.TAG_TASK, "regressor");
        assertThatThrownBy(() -> ModelStore.verify("models:/m/1", v, task, trust))
                .hasMessageContaining("MODEL_SIGNATURE_INVALID");

        // The sidecar changed (not tagged by a checksum of its own): refused by the signature.
        String original = Files.readString(sidecar);
        Files.writeString(sidecar, original.replace("}", ", \"extra\": 1}"));
        assertThatThrownBy(() -> ModelStore.verify("models:/m/1", v, tags, trust))
                .hasMessageContaining("MODEL_SIGNATURE_INVALID");
        Files.writeString(sidecar, original);

        // One bit of the model flipped, checksum and size tags rewritten to match.
        byte[] b = Files.readAllBytes(model);
        b[b.length / 2] ^= 1;
        Files.write(model, b);
        tags.put(ModelStore.TAG_SHA256, ModelStore.sha256(model));
        assertThatThrownBy(() -> ModelStore.verify("models:/m/1", v, tags, trust))
                .hasMessageContaining("MODEL_SIGNATURE_INVALID")
                .hasMessageContaining("models:/m/1");

        // Unsigned: refused when required, accepted when unsigned versions are allowed.
        Map<String, String> unsigned = new HashMap<>(tags);
        unsigned.remove(ModelTrust.TAG_SIGNATURE);
        unsigned.remove(ModelTrust.TAG_SIGNING_KEY);
        Files.copy(ModelStoreTest.CBM, model, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        unsigned.put(ModelStore.TAG_SHA256, ModelStore.sha256(model));
        assertThatThrownBy(() -> ModelStore.verify("models:/m/1", v, unsigned, trust))
                .hasMessageContaining("MODEL_UNSIGNED")
                .hasMessageContaining(ModelTrust.UNSIGNED_KEY + "=allow");
        ModelTrust allow = new ModelTrust(ModelTrust.readKeys(dir.resolve("trusted")), false, "t");
        assertThat(ModelStore.verify("models:/m/1", v, unsigned, allow).format())
                .isEqualTo(ModelFormat.CATBOOST_CBM);

        // Signed by a key the host does not trust.
        ModelSigner stranger =
                ModelSigner.generate(dir.resolve("keys/stranger.pem"), dir.resolve("other"));
        Map<String, String> foreign = new HashMap<>(unsigned);
        foreign.putAll(stranger.sign(unsigned, Optional.of(sidecar)));
        assertThatThrownBy(() -> ModelStore.verify("models:/m/1", v, foreign, trust))
                .hasMessageContaining("MODEL_SIGNER_UNKNOWN")
                .hasMessageContaining(stranger.keyId());

        // A signing key file whose PUBLIC KEY block is another pair's: refused when read, not
        // left to sign versions every host would refuse.
        String own = Files.readString(dir.resolve("keys/signing.pem"));
        String other = Files.readString(dir.resolve("keys/stranger.pem"));
        int at = own.indexOf("-----BEGIN PUBLIC KEY-----");
        int from = other.indexOf("-----BEGIN PUBLIC KEY-----");
        assertThat(at).isPositive();
        assertThat(from).isPositive();
        Path mixed = dir.resolve("keys/mixed.pem");
        Files.writeString(mixed, own.substring(0, at) + other.substring(from));
        assertThatThrownBy(() -> ModelSigner.read(mixed))
                .hasMessageStartingWith("[Quiver/BAD_CONFIG] model signing key " + mixed)
                .hasMessageContaining("the PUBLIC KEY is not the PRIVATE KEY's");
    }

    @Test
    void theDefaultRefusesUnsignedVersionsOnceAKeyIsTrustedAndTheSettingIsChecked(@TempDir Path dir)
            throws IOException {
        Map<String, String> props = new HashMap<>();
        props.put("quiver.home", dir.toString());
        assertThat(ModelTrust.configured(props::get).refusesUnsigned()).isFalse();
        Path trusted = dir.resolve("config/trusted-model-keys");
        ModelSigner.generate(dir.resolve("config/model-signing-key.pem"), trusted);
        assertThat(ModelTrust.configured(props::get).refusesUnsigned()).isTrue();
        assertThat(ModelTrust.configured(props::get).hasKeys()).isTrue();
        props.put(ModelTrust.UNSIGNED_KEY, "allow");
        assertThat(ModelTrust.configured(props::get).refusesUnsigned()).isFalse();
        props.put(ModelTrust.UNSIGNED_KEY, "sometimes");
        assertThatThrownBy(() -> ModelTrust.configured(props::get))
                .hasMessageContaining(ModelTrust.UNSIGNED_KEY + "=sometimes");
        props.put(ModelTrust.UNSIGNED_KEY, "refuse");
        // a trusted-keys folder named on purpose must exist and hold a key: a typo must not
        // turn the signature check off
        props.put(ModelTrust.TRUSTED_KEYS_KEY, dir.resolve("mistyped").toString());
        assertThatThrownBy(() -> ModelTrust.configured(props::get))
                .hasMessageStartingWith("[Quiver/BAD_CONFIG] " + ModelTrust.TRUSTED_KEYS_KEY)
                .hasMessageContaining("no such folder");
        Files.createDirectories(dir.resolve("empty"));
        props.put(ModelTrust.TRUSTED_KEYS_KEY, dir.resolve("empty").toString());
        assertThatThrownBy(() -> ModelTrust.configured(props::get))
                .hasMessageContaining("holds no *.pem public key");
        props.put(ModelTrust.TRUSTED_KEYS_KEY, trusted.toString());
        assertThat(ModelTrust.configured(props::get).hasKeys()).isTrue();
        props.remove(ModelTrust.TRUSTED_KEYS_KEY);
        Files.writeString(trusted.resolve("broken.pem"), "not a key");
        assertThatThrownBy(() -> ModelTrust.configured(props::get))
                .hasMessageContaining("broken.pem");
        assertThatThrownBy(
                        () ->
                                ModelSigner.generate(
                                        dir.resolve("config/model-signing-key.pem"),
                                        dir.resolve("t2")))
                .isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
    }
}

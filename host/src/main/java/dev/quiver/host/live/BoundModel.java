package dev.quiver.host.live;

import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.host.registry.AliasPollState;
import dev.quiver.host.registry.ResolvedModel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One {@link ModelBinding}'s live state in {@link LiveModels}: the instance and version serving,
 * the versions refused, how polling goes. Mutated by the start and poller threads only (and the
 * model loader thread, which {@link VersionAdmission} runs on), read by {@link #status}.
 */
final class BoundModel {

    /** A version refused, with its reason. */
    record Refusal(String version, String reason, String detail, Instant at) {}

    final ModelBinding binding;
    final String pluginId;
    volatile PredictionCapability instance;
    volatile ResolvedModel model;
    volatile Instant servingSince;
    volatile Instant lastPoll;
    volatile String lastPollResult = "not polled yet";
    volatile Instant nextPoll = Instant.EPOCH;
    final Map<String, Refusal> refused = new LinkedHashMap<>();
    final AtomicLong swaps = new AtomicLong();

    /** When to poll again and since when the alias is unchecked (shared with the bundle's). */
    final AliasPollState poll;

    String seenVersion;
    Instant seenAt;

    /** Whether the move to {@link #seenVersion} is in the alias history. */
    boolean seenRecorded;

    BoundModel(ModelBinding binding, String pluginId, AliasPollState poll) {
        this.binding = binding;
        this.pluginId = pluginId;
        this.poll = poll;
    }

    ServedModel served() {
        ResolvedModel m = model;
        return new ServedModel(
                binding.capability(),
                pluginId,
                binding.requested(),
                m.name(),
                m.version(),
                m.runId(),
                m.sha256());
    }

    /** Records a refused version (replacing an earlier refusal of it). */
    void refuse(Refusal r) {
        synchronized (refused) {
            refused.put(r.version(), r);
        }
    }

    /** The refusal of {@code version}, or null when it was not refused. */
    Refusal refusal(String version) {
        synchronized (refused) {
            return refused.get(version);
        }
    }

    /** What it serves and how polling goes, for {@code GET /v1/models}. */
    Map<String, Object> status() {
        ResolvedModel m = model;
        Map<String, Object> serving = new LinkedHashMap<>();
        serving.put("name", m.name());
        serving.put("version", m.version());
        serving.put("run_id", m.runId());
        serving.put("sha256", m.sha256());
        serving.put("format", m.format().tag());
        serving.put("origin", m.origin());
        serving.put("note", m.note());
        serving.put("since", String.valueOf(servingSince));
        List<Map<String, Object>> out = new ArrayList<>();
        synchronized (refused) {
            for (Refusal r : refused.values()) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("version", r.version());
                x.put("state", "REJECTED");
                x.put("reason", r.reason());
                x.put("detail", r.detail());
                x.put("at", r.at().toString());
                out.add(x);
            }
        }
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("capability", binding.capability());
        b.put("plugin_id", pluginId);
        b.put("requested", binding.requested());
        b.put("serving", serving);
        b.put("last_poll", String.valueOf(lastPoll));
        b.put("last_poll_result", lastPollResult);
        b.putAll(poll.status());
        b.put("swaps", swaps.get());
        b.put("refused", out);
        return b;
    }
}

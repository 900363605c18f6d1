package dev.quiver.host.live;

import dev.quiver.host.plugin.PluginRuntime;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The {@code quiver_model_*} meters of {@link LiveModels}: swaps and refusals by result and reason,
 * registry polls by result, the time from an alias move seen to the new version serving, and the
 * model instances open.
 */
final class ModelMetrics {

    private final MeterRegistry registry;

    /** From the poll that saw an alias move to the new version serving. */
    final Timer aliasToServing;

    ModelMetrics(MeterRegistry registry, PluginRuntime runtime) {
        this.registry = registry;
        this.aliasToServing =
                Timer.builder("quiver.model.alias.to.serving")
                        .description(
                                "From the poll that saw an alias move to the new version serving")
                        .publishPercentileHistogram()
                        .register(registry);
        Gauge.builder("quiver.model.instances.open", runtime, PluginRuntime::openInstances)
                .description("Model instances built for bindings and not closed yet")
                .register(registry);
    }

    /** Counts a refused version: {@code quiver_model_refusals_total{reason}} and a refused swap. */
    void refused(String reason) {
        Counter.builder("quiver.model.refusals")
                .description("Model versions refused, by reason")
                .tag("reason", reason)
                .register(registry)
                .increment();
        swaps("refused").increment();
    }

    Counter swaps(String result) {
        return Counter.builder("quiver.model.swaps")
                .description("Alias moves acted on, by result")
                .tag("result", result)
                .register(registry);
    }

    Counter polls(String result) {
        return Counter.builder("quiver.model.polls")
                .description("Registry polls, by result")
                .tag("result", result)
                .register(registry);
    }
}

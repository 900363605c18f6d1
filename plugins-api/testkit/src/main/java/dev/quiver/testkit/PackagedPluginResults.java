package dev.quiver.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

/**
 * What {@link QuiverPluginTestKit#load} found in a packaged plugin: its id, the capabilities its
 * extensions provide ({@code prediction:momentum}) and every failure, each naming the check.
 */
public final class PackagedPluginResults {

    private final String pluginId;
    private final List<String> capabilities;
    private final List<String> failures;

    PackagedPluginResults(String pluginId, List<String> capabilities, List<String> failures) {
        this.pluginId = pluginId;
        this.capabilities = List.copyOf(capabilities);
        this.failures = List.copyOf(failures);
    }

    /** The plugin's {@code Plugin-Id}, or the file name if the manifest could not be read. */
    public String pluginId() {
        return pluginId;
    }

    /** The failures, each {@code check: what went wrong}; empty when the plugin passed. */
    public List<String> failures() {
        return failures;
    }

    /**
     * Asserts there are no failures, listing them if there are.
     *
     * @return this
     */
    public PackagedPluginResults assertNoFailures() {
        assertThat(failures).as("packaged plugin %s", pluginId).isEmpty();
        return this;
    }

    /** The capabilities the plugin's extensions provide, e.g. {@code prediction:momentum}. */
    public Capabilities capabilities() {
        return new Capabilities();
    }

    /** Fluent checks on the capabilities found. */
    public final class Capabilities {

        private Capabilities() {}

        /** As {@code kind:name}, sorted. */
        public List<String> list() {
            return capabilities;
        }

        /**
         * Asserts the extensions provide exactly these capabilities, in any order.
         *
         * @param expected e.g. {@code "prediction:momentum"}
         * @return the results, to go on
         */
        public PackagedPluginResults assertExactly(String... expected) {
            assertThat(capabilities)
                    .as("capabilities of packaged plugin %s", pluginId)
                    .containsExactlyInAnyOrder(expected);
            return PackagedPluginResults.this;
        }
    }
}

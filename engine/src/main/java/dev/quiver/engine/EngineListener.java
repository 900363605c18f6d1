package dev.quiver.engine;

/**
 * Observes the engine's calls into capabilities, e.g. to time them (the service exports the times
 * as Prometheus histograms). Called on the stepping thread; must be fast and must not throw.
 */
public interface EngineListener {

    /** A listener that does nothing. */
    EngineListener NONE = (kind, name, nanos) -> {};

    /**
     * One capability call finished (normally or by throwing).
     *
     * @param kind {@code prediction}, {@code ensemble} or {@code sizing}
     * @param name the capability's name
     * @param nanos its duration, nanoseconds
     */
    void called(String kind, String name, long nanos);
}

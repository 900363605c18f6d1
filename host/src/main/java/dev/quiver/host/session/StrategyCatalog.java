package dev.quiver.host.session;

import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.BundleLoader;
import dev.quiver.host.strategy.StrategyBundle;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The strategy bundles a service can decide with: the one it serves now, and any bundle a session
 * decided with before (a replay after a restart re-decides each bar with the bundle that decided
 * it, so the state it rebuilds is the one acknowledged). Every {@link #load} makes fresh instances.
 */
public interface StrategyCatalog {

    /**
     * The bundle serving now.
     *
     * @return the current bundle
     */
    StrategyBundle current();

    /**
     * Fresh instances of a bundle by its id ({@link StrategyBundle#id()}).
     *
     * @param id the bundle's id
     * @return its strategy; close it when done
     * @throws dev.quiver.api.error.QuiverInputException if the bundle cannot be found, verified or
     *     loaded
     */
    BundleLoader.Loaded load(String id);

    /**
     * Fresh instances of the bundle serving now.
     *
     * @return its strategy; close it when done
     */
    default BundleLoader.Loaded loadCurrent() {
        return load(current().id());
    }

    /**
     * The portfolio sizing policies the loaded plugins provide (what a portfolio account may name,
     * e.g. {@code kelly_portfolio}).
     *
     * @return the policies; empty when none is loaded
     */
    default java.util.List<dev.quiver.api.sizing.PortfolioSizingCapability> portfolioPolicies() {
        return java.util.List.of();
    }

    /**
     * A new instance of the portfolio sizing policy {@code name}, owned by the caller (who closes
     * it): one per portfolio account, so that accounts share no policy state (docs/portfolio.md).
     *
     * @param name the policy's name, e.g. {@code kelly_portfolio}
     * @return the instance, or empty when no loaded plugin provides that policy
     */
    default java.util.Optional<dev.quiver.api.sizing.PortfolioSizingCapability> newPortfolioPolicy(
            String name) {
        return java.util.Optional.empty();
    }

    /**
     * A catalog of bundle folders (ids are paths) whose current bundle can be replaced.
     *
     * @param initial the bundle served at start
     * @param runtime the loaded plugins
     * @return the catalog
     */
    static Folders folders(StrategyBundle initial, PluginRuntime runtime) {
        return new Folders(initial, runtime, id -> StrategyBundle.open(Path.of(id)));
    }

    /**
     * A catalog whose unknown ids are opened by {@code opener} (e.g. {@code NAME/VERSION} resolved
     * through the registry's verified cache).
     *
     * @param initial the bundle served at start
     * @param runtime the loaded plugins
     * @param opener a verified bundle for an id
     * @return the catalog
     */
    static Folders folders(
            StrategyBundle initial,
            PluginRuntime runtime,
            java.util.function.Function<String, StrategyBundle> opener) {
        return new Folders(initial, runtime, opener);
    }

    /** Bundles known by id: the ones served, and folders opened on demand. */
    final class Folders implements StrategyCatalog {
        private final PluginRuntime runtime;
        private final java.util.function.Function<String, StrategyBundle> opener;
        private final Map<String, StrategyBundle> known = new ConcurrentHashMap<>();
        private volatile StrategyBundle current;

        Folders(
                StrategyBundle initial,
                PluginRuntime runtime,
                java.util.function.Function<String, StrategyBundle> opener) {
            this.runtime = runtime;
            this.opener = opener;
            this.current = initial;
            known.put(initial.id(), initial);
        }

        @Override
        public StrategyBundle current() {
            return current;
        }

        /**
         * Makes {@code next} the bundle new sessions get (sessions already open swap through {@link
         * SessionManager#swapTo}).
         *
         * @param next a verified bundle
         */
        public void serve(StrategyBundle next) {
            known.put(next.id(), next);
            current = next;
        }

        /**
         * Remembers a bundle that is not served, so its id can be loaded (e.g. a registry version
         * kept in a cache folder).
         *
         * @param bundle a verified bundle
         */
        public void remember(StrategyBundle bundle) {
            known.put(bundle.id(), bundle);
        }

        @Override
        public java.util.List<dev.quiver.api.sizing.PortfolioSizingCapability> portfolioPolicies() {
            return runtime.portfolioSizings();
        }

        @Override
        public java.util.Optional<dev.quiver.api.sizing.PortfolioSizingCapability>
                newPortfolioPolicy(String name) {
            if (runtime.portfolioSizings().stream()
                    .noneMatch(c -> c.descriptor().name().equals(name))) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(
                    (dev.quiver.api.sizing.PortfolioSizingCapability)
                            runtime.newPortfolioSizing(name).capability());
        }

        @Override
        public BundleLoader.Loaded load(String id) {
            StrategyBundle b = known.computeIfAbsent(id, opener);
            return BundleLoader.load(b, runtime);
        }
    }
}

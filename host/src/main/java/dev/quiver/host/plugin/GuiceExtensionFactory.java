package dev.quiver.host.plugin;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import dev.quiver.api.PluginContext;
import java.util.Map;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginManager;
import org.pf4j.PluginRuntimeException;
import org.pf4j.PluginWrapper;

/**
 * Builds each extension in an injector of its own that exposes only api services: the plugin's own
 * {@link PluginContext}. Plugins see {@code jakarta.inject} annotations, never Guice.
 *
 * <p>Not a child of a shared injector: a parent injector remembers the keys its children bound just
 * in time (Guice bans them in the parent, and a failed attempt to bind them there is remembered
 * too), which would keep an unloaded plugin's classes, and so its class loader, reachable for as
 * long as the parent lives. An injector per extension is garbage with the extension.
 */
final class GuiceExtensionFactory implements ExtensionFactory {

    private final PluginManager manager;
    private final Map<String, String> config;

    GuiceExtensionFactory(PluginManager manager, Map<String, String> config) {
        this.manager = manager;
        this.config = Map.copyOf(config);
    }

    @Override
    public <T> T create(Class<T> extensionClass) {
        PluginWrapper plugin = manager.whichPlugin(extensionClass);
        String pluginId = plugin == null ? "host" : plugin.getPluginId();
        try {
            Injector injector =
                    Guice.createInjector(
                            Stage.PRODUCTION,
                            binder ->
                                    binder.bind(PluginContext.class)
                                            .toInstance(new HostPluginContext(pluginId, config)));
            return injector.getInstance(extensionClass);
        } catch (RuntimeException e) {
            throw new PluginRuntimeException(
                    e,
                    "[Quiver/EXTENSION_CREATE_FAILED] Plugin '{}' extension {} could not be created: {}",
                    pluginId,
                    extensionClass.getName(),
                    e.getMessage());
        }
    }
}

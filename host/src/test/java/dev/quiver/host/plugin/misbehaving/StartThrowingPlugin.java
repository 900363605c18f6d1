package dev.quiver.host.plugin.misbehaving;

import org.pf4j.Plugin;

/** Packed into a test plugin zip by {@code PluginFaultsIT}: its start() throws an exception. */
public final class StartThrowingPlugin extends Plugin {

    @Override
    public void start() {
        throw new IllegalStateException("deliberately broken start");
    }
}

package dev.quiver.host.plugin.misbehaving;

import org.pf4j.Plugin;

/** Packed into a test plugin zip by {@code PluginFaultsIT}: its start() throws an Error. */
public final class StartErrorPlugin extends Plugin {

    @Override
    public void start() {
        throw new NoClassDefFoundError("deliberately missing class in start");
    }
}

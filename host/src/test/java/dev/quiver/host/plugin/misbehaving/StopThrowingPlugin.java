package dev.quiver.host.plugin.misbehaving;

import org.pf4j.Plugin;

/**
 * Packed into a test plugin zip by {@code PluginFaultsIT}: starts, serves, and throws an Error from
 * stop().
 */
public final class StopThrowingPlugin extends Plugin {

    @Override
    public void stop() {
        throw new StackOverflowError("deliberately broken stop");
    }
}

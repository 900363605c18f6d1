package dev.quiver.host.plugin.misbehaving;

import org.pf4j.Plugin;

/** Packed into a test plugin zip by {@code StuckPluginIT}: its start() never returns in time. */
public final class HangingStartPlugin extends Plugin {

    @Override
    public void start() {
        Sleeper.ignoringInterrupts(60_000);
    }
}

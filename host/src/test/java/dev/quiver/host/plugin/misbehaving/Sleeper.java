package dev.quiver.host.plugin.misbehaving;

/** How a badly written plugin waits: through interrupts. */
final class Sleeper {

    private Sleeper() {}

    static void ignoringInterrupts(long millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < end) {
            try {
                Thread.sleep(Math.max(1, Math.min(200, (end - System.nanoTime()) / 1_000_000L)));
            } catch (InterruptedException ignored) {
                // a badly written plugin ignores interrupts
            }
        }
    }
}

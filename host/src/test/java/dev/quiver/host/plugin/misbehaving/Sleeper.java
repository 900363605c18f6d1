package dev.quiver.host.plugin.misbehaving;

/** How a badly written plugin waits: through interrupts. */
final class Sleeper {

    private Sleeper() {}

    static void ignoringInterrupts(long millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < end) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException ignored) {
                // a badly written plugin ignores interrupts
            }
        }
    }
}

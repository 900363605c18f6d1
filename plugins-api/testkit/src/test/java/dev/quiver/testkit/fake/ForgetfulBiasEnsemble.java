package dev.quiver.testkit.fake;

/** Zipped into a plugin by {@code QuiverPluginTestKitTest}: a restore that changes nothing. */
public final class ForgetfulBiasEnsemble extends BiasEnsemble {

    /** With {@link Flaw#FORGETS_ON_RESTORE}. */
    public ForgetfulBiasEnsemble() {
        super(Flaw.FORGETS_ON_RESTORE);
    }
}

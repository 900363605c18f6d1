package dev.quiver.host.cli;

import dev.quiver.host.plugin.PluginTrust;
import dev.quiver.host.plugin.TrustList;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code quiver plugins list}: what the host trusts, archives by sha256 and signers. */
@Command(
        name = "list",
        mixinStandardHelpOptions = true,
        description =
                "List what the host trusts: the archives on the trust list (sha256, plugin id,"
                        + " version, file) and the trusted signers' certificates.")
final class PluginsTrustListCommand implements Callable<Integer> {

    @Mixin HostOptions host;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, String> config = host.configuration();
        Path list = PluginsTrustCommand.trustList(host);
        var entries = TrustList.read(list);
        out.printf("trust list: %s (%d archives)%n", list.toAbsolutePath(), entries.size());
        for (TrustList.Entry e : entries) {
            out.printf("  %s %-32s %-8s %s%n", e.sha256(), e.pluginId(), e.version(), e.fileName());
        }
        Path signers = PluginTrust.signersOf(config).orElse(null);
        var certs = PluginTrust.certificates(signers);
        out.printf(
                "trusted signers: %s (%d certificates)%n",
                signers == null ? "(none configured)" : signers.toAbsolutePath(), certs.size());
        for (X509Certificate c : certs) {
            out.printf(
                    "  %s  SHA-256 %s%n",
                    c.getSubjectX500Principal().getName(), PluginTrust.fingerprint(c));
        }
        out.flush();
        return 0;
    }
}

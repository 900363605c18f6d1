package dev.quiver.host.plugin;

import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.capabilities.Capability;
import dev.quiver.capabilities.CapabilityHeaderException;
import dev.quiver.capabilities.CapabilityHeaders;
import dev.quiver.capabilities.Requirement;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Wires plugins by their manifests' capabilities, OSGi style: a plugin is wired only if every
 * mandatory {@code Require-Capability} is met by a capability of the host or of another wired
 * plugin, and its {@code Provide-Capability} header parses and fits this host (a prediction's
 * {@code feature-schema} must be the host's). Refusing a plugin withdraws its capabilities, so
 * resolution repeats until nothing changes.
 *
 * <p>Every refusal names the plugin, the unmet requirement and what was on offer in that namespace.
 */
final class CapabilityResolver {

    /** Namespace of what the host itself offers: {@code api} version. */
    static final String HOST = "quiver.host";

    /** Namespace of the feature schema the host computes. */
    static final String FEATURE_SCHEMA = "quiver.feature-schema";

    /** The host's owner name in wirings. */
    static final String HOST_ID = "host";

    /** A plugin PF4J started, before wiring. */
    record Candidate(
            String pluginId, String version, Path path, String provides, String requires) {}

    /** A capability and who offers it ({@link #HOST_ID} or a plugin id). */
    record Offer(String owner, Capability capability) {}

    /** One met requirement. */
    record Wire(String pluginId, Requirement requirement, Offer provider) {}

    /**
     * The outcome.
     *
     * @param wired plugin ids wired, sorted
     * @param provided each wired plugin's capabilities
     * @param wires each met mandatory or optional requirement
     * @param refusals plugins refused, with the reason
     */
    record Resolution(
            List<String> wired,
            Map<String, List<Capability>> provided,
            List<Wire> wires,
            List<PluginRefusal> refusals) {}

    private final List<Capability> hostCapabilities;
    private final FeatureSchema schema;

    CapabilityResolver(List<Capability> hostCapabilities, FeatureSchema schema) {
        this.hostCapabilities = List.copyOf(hostCapabilities);
        this.schema = schema;
    }

    List<Capability> hostCapabilitiesOffered() {
        return hostCapabilities;
    }

    /** What a host with this api version and feature schema offers. */
    static List<Capability> hostCapabilities(String apiVersion, FeatureSchema schema) {
        var host = new LinkedHashMap<String, Object>();
        host.put("api", org.osgi.framework.Version.parseVersion(apiVersion));
        var features = new LinkedHashMap<String, Object>();
        features.put("name", schema.name());
        features.put("version", schema.version());
        features.put("hash", schema.hash());
        return List.of(Capability.of(HOST, host), Capability.of(FEATURE_SCHEMA, features));
    }

    Resolution resolve(List<Candidate> candidates) {
        var refusals = new ArrayList<PluginRefusal>();
        var provides = new LinkedHashMap<String, List<Capability>>();
        var requires = new LinkedHashMap<String, List<Requirement>>();
        var byId = new LinkedHashMap<String, Candidate>();
        for (Candidate c :
                candidates.stream().sorted(Comparator.comparing(Candidate::pluginId)).toList()) {
            try {
                List<Capability> caps = CapabilityHeaders.parseProvide(c.provides());
                List<Requirement> reqs = CapabilityHeaders.parseRequire(c.requires());
                PluginRefusal misfit = misfit(c, caps);
                if (misfit != null) {
                    refusals.add(misfit);
                    continue;
                }
                provides.put(c.pluginId(), caps);
                requires.put(c.pluginId(), reqs);
                byId.put(c.pluginId(), c);
            } catch (CapabilityHeaderException e) {
                refusals.add(headerInvalid(c, e));
            }
        }
        var refusedOffers = new ArrayList<Offer>();
        boolean changed = true;
        while (changed) {
            changed = false;
            for (String id : List.copyOf(byId.keySet())) {
                for (Requirement r : requires.get(id)) {
                    if (r.optional() || provider(r, provides, byId.keySet()) != null) {
                        continue;
                    }
                    refusals.add(
                            unresolved(byId.get(id), r, provides, byId.keySet(), refusedOffers));
                    for (Capability cap : provides.get(id)) {
                        refusedOffers.add(new Offer(id, cap));
                    }
                    byId.remove(id);
                    provides.remove(id);
                    changed = true;
                    break;
                }
            }
        }
        var wires = new ArrayList<Wire>();
        for (String id : byId.keySet()) {
            for (Requirement r : requires.get(id)) {
                Offer o = provider(r, provides, byId.keySet());
                if (o != null) {
                    wires.add(new Wire(id, r, o));
                }
            }
        }
        refusals.sort(Comparator.comparing(PluginRefusal::pluginId));
        return new Resolution(List.copyOf(byId.keySet()), Map.copyOf(provides), wires, refusals);
    }

    private Offer provider(
            Requirement r, Map<String, List<Capability>> provides, Iterable<String> live) {
        for (Capability c : hostCapabilities) {
            if (r.matches(c)) {
                return new Offer(HOST_ID, c);
            }
        }
        for (String id : live) {
            for (Capability c : provides.get(id)) {
                if (r.matches(c)) {
                    return new Offer(id, c);
                }
            }
        }
        return null;
    }

    /** A capability that parses but cannot run on this host: prediction attributes checked. */
    private PluginRefusal misfit(Candidate c, List<Capability> caps) {
        int index = 0;
        for (Capability cap : caps) {
            index++;
            if (!cap.namespace().equals(Capability.PREDICTION)) {
                continue;
            }
            Object horizon = cap.attributes().get("horizon");
            if (horizon != null && !(horizon instanceof Long h && h >= 1)) {
                return headerInvalid(
                        c,
                        index,
                        cap,
                        "attribute 'horizon' must be a Long >= 1 (declare horizon:Long=1), not '"
                                + horizon
                                + "'");
            }
            String calibrated = cap.attribute("calibrated");
            if (calibrated != null && !calibrated.equals("true") && !calibrated.equals("false")) {
                return headerInvalid(
                        c,
                        index,
                        cap,
                        "attribute 'calibrated' must be true or false, not '" + calibrated + "'");
            }
            String fs = cap.attribute("feature-schema");
            String ours = schema.name() + "@" + schema.version();
            if (fs != null && !fs.equals(ours) && !fs.equals(schema.hash())) {
                return new PluginRefusal(
                        "FEATURE_SCHEMA_MISMATCH",
                        c.pluginId(),
                        c.path(),
                        "[Quiver/FEATURE_SCHEMA_MISMATCH] Plugin '"
                                + c.pluginId()
                                + "' "
                                + c.version()
                                + " provides a prediction for feature schema "
                                + fs
                                + "; this host computes "
                                + ours
                                + " (sha256 "
                                + schema.hash()
                                + ").\n  Capability: "
                                + cap
                                + "\n  Where: "
                                + c.path()
                                + " (manifest Provide-Capability)\n  Hint: rebuild the plugin"
                                + " (and retrain its model) on feature schema "
                                + ours
                                + ", then declare feature-schema="
                                + ours
                                + " or its sha256.\n  Learn more:"
                                + " docs/errors/FEATURE_SCHEMA_MISMATCH.md");
            }
        }
        return null;
    }

    private static PluginRefusal headerInvalid(Candidate c, CapabilityHeaderException e) {
        return new PluginRefusal(
                "CAPABILITY_HEADER_INVALID",
                c.pluginId(),
                c.path(),
                "[Quiver/CAPABILITY_HEADER_INVALID] Plugin '"
                        + c.pluginId()
                        + "' "
                        + c.version()
                        + ": "
                        + e.getMessage()
                        + ".\n  Where: "
                        + c.path()
                        + " (manifest "
                        + e.header()
                        + ")\n  Hint: clauses are namespace; name[:Type]=value; directive:=value,"
                        + " types String, Long, Double, Version, List<T>; quote filters.\n"
                        + "  Learn more: docs/errors/CAPABILITY_HEADER_INVALID.md");
    }

    private static PluginRefusal headerInvalid(
            Candidate c, int index, Capability cap, String problem) {
        return headerInvalid(
                c,
                new CapabilityHeaderException(
                        CapabilityHeaders.PROVIDE, index, cap.toString(), problem));
    }

    private PluginRefusal unresolved(
            Candidate c,
            Requirement r,
            Map<String, List<Capability>> provides,
            Iterable<String> live,
            List<Offer> refusedOffers) {
        var offer = new StringBuilder();
        for (Capability cap : hostCapabilities) {
            if (cap.namespace().equals(r.namespace())) {
                offer.append("\n    ").append(cap).append(" (host)");
            }
        }
        for (String id : live) {
            if (id.equals(c.pluginId())) {
                continue;
            }
            for (Capability cap : provides.get(id)) {
                if (cap.namespace().equals(r.namespace())) {
                    offer.append("\n    ").append(cap).append(" (plugin '").append(id).append("')");
                }
            }
        }
        for (Offer o : refusedOffers) {
            if (o.capability().namespace().equals(r.namespace())) {
                offer.append("\n    ")
                        .append(o.capability())
                        .append(" (plugin '")
                        .append(o.owner())
                        .append("', itself refused)");
            }
        }
        if (offer.length() == 0) {
            offer.append("\n    nothing");
        }
        return new PluginRefusal(
                "CAPABILITY_UNRESOLVED",
                c.pluginId(),
                c.path(),
                "[Quiver/CAPABILITY_UNRESOLVED] Plugin '"
                        + c.pluginId()
                        + "' "
                        + c.version()
                        + " requires "
                        + r
                        + ", which no wired plugin or the host provides.\n  On offer in "
                        + r.namespace()
                        + ":"
                        + offer
                        + "\n  Where: "
                        + c.path()
                        + " (manifest Require-Capability)\n  Hint: install a plugin that provides a"
                        + " matching capability, or relax the filter (resolution:=optional if the"
                        + " plugin can run without it).\n  Learn more:"
                        + " docs/errors/CAPABILITY_UNRESOLVED.md");
    }
}

package dev.quiver.testkit;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.QuiverApi;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.capabilities.Capability;
import dev.quiver.capabilities.CapabilityHeaders;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.ref.WeakReference;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;
import org.pf4j.DefaultPluginManager;
import org.pf4j.DefaultVersionManager;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

/**
 * Loads a built plugin zip the way a host does, without the host: a real PF4J manager with the
 * plugins-api version as system version and a minimal runtime (each extension built through its
 * {@code @Inject} constructor with a test {@link PluginContext}, or its no-argument one; no Guice,
 * no MLflow).
 *
 * <p>Checks, each reported as a failure naming it: the manifest ({@code Plugin-Id}, {@code
 * Plugin-Requires} satisfied by {@link QuiverApi#VERSION}, {@code Provide-Capability} and {@code
 * Require-Capability} parse); the plugin starts; its extensions come from its own class loader and
 * each is declared in {@code Provide-Capability}; the capability contracts ({@link
 * PredictionCapabilityContract}, {@link EnsembleCapabilityContract}, {@link
 * SizingCapabilityContract}; tests whose JUnit assumption fails are skipped) pass through the
 * packaged extensions; after unloading, the plugin's class loader is collectable. The plugin runs
 * on a thread of its own and JVM shutdown hooks it registered are released before unloading, as the
 * host does.
 *
 * <p>Trust: the kit is for a developer's own zip, so loading it here is trusting it explicitly; the
 * host's trust list and signature check (RELIABILITY.md P5, {@code docs/plugin-trust.md}) do not
 * apply. To run the zip in a host, trust it there ({@code quiver plugins trust}) or sign it.
 *
 * <pre>{@code
 * QuiverPluginTestKit.load(Path.of("target/prediction-analogs-1.0.0.zip"))
 *         .assertNoFailures()
 *         .capabilities().assertExactly("prediction:analogs");
 * }</pre>
 */
public final class QuiverPluginTestKit {

    private QuiverPluginTestKit() {}

    /**
     * Loads, checks and unloads a plugin zip with an empty configuration.
     *
     * @param zip the plugin zip ({@code classes/} + {@code lib/})
     * @return the results
     */
    public static PackagedPluginResults load(Path zip) {
        return load(zip, Map.of());
    }

    /**
     * Loads, checks and unloads a plugin zip.
     *
     * @param zip the plugin zip
     * @param config the plugin's configuration, keys without the plugin-id prefix
     * @return the results
     */
    public static PackagedPluginResults load(Path zip, Map<String, String> config) {
        var failures = new ArrayList<String>();
        var capabilities = new ArrayList<String>();
        String id = zip.getFileName().toString();
        Path root;
        try {
            root = Files.createTempDirectory("quiver-testkit-");
            Files.copy(zip, root.resolve(zip.getFileName()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stage " + zip, e);
        }
        try {
            Map<String, String> headers = manifest(zip);
            if (headers.isEmpty()) {
                failures.add("manifest: " + zip + " has no classes/META-INF/MANIFEST.MF");
                return new PackagedPluginResults(id, capabilities, failures);
            }
            id = headers.getOrDefault("Plugin-Id", id);
            List<Capability> declared = checkManifest(headers, failures);
            checkLibraries(zip, failures);
            // On a thread of its own, as the host runs plugin code: what the plugin caches per
            // thread (a ThreadLocal) ends with that thread, not with the caller's.
            String pluginId = id;
            List<Capability> caps = declared;
            var loaderRef =
                    new java.util.concurrent.atomic.AtomicReference<WeakReference<ClassLoader>>();
            var hooks = new java.util.concurrent.atomic.AtomicReference<Object>(List.of());
            Thread runner =
                    new Thread(
                            () ->
                                    loaderRef.set(
                                            run(
                                                    root,
                                                    pluginId,
                                                    config,
                                                    caps,
                                                    capabilities,
                                                    failures,
                                                    hooks)),
                            "quiver-testkit-" + id);
            runner.setDaemon(true);
            runner.start();
            try {
                runner.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failures.add("load: interrupted");
                return new PackagedPluginResults(id, capabilities, failures);
            }
            WeakReference<ClassLoader> loader = loaderRef.get();
            if (loader != null && !collected(loader)) {
                failures.add(
                        "unload: the plugin's class loader is still reachable after unloading and"
                                + " 20 garbage collections (a static cache, thread or ThreadLocal"
                                + " holds one of its classes)"
                                + (hooks.get() instanceof String why ? "; " + why : ""));
            }
        } finally {
            deleteTree(root);
        }
        capabilities.sort(Comparator.naturalOrder());
        return new PackagedPluginResults(id, capabilities, failures);
    }

    private static List<Capability> checkManifest(Map<String, String> h, List<String> failures) {
        String requires = h.get("Plugin-Requires");
        if (h.get("Plugin-Id") == null || h.get("Plugin-Version") == null) {
            failures.add("manifest: Plugin-Id and Plugin-Version are required");
        }
        if (requires == null) {
            failures.add("manifest: Plugin-Requires is missing; write >=1.0.0 & <2.0.0");
        } else {
            try {
                if (!new DefaultVersionManager()
                        .checkVersionConstraint(QuiverApi.VERSION, requires)) {
                    failures.add(
                            "manifest: Plugin-Requires "
                                    + requires
                                    + " excludes this plugins-api, "
                                    + QuiverApi.VERSION);
                }
            } catch (RuntimeException e) {
                failures.add(
                        "manifest: Plugin-Requires "
                                + requires
                                + " does not parse: "
                                + e.getMessage());
            }
        }
        List<Capability> declared = List.of();
        try {
            declared = CapabilityHeaders.parseProvide(h.get(CapabilityHeaders.PROVIDE));
        } catch (IllegalArgumentException e) {
            failures.add("manifest: " + e.getMessage());
        }
        try {
            CapabilityHeaders.parseRequire(h.get(CapabilityHeaders.REQUIRE));
        } catch (IllegalArgumentException e) {
            failures.add("manifest: " + e.getMessage());
        }
        return declared;
    }

    /** Loads and exercises the plugin; returns a weak reference to its class loader. */
    private static WeakReference<ClassLoader> run(
            Path root,
            String id,
            Map<String, String> config,
            List<Capability> declared,
            List<String> capabilities,
            List<String> failures,
            java.util.concurrent.atomic.AtomicReference<Object> hooks) {
        PluginContext context = context(id, config);
        var manager =
                new DefaultPluginManager(root) {
                    @Override
                    protected ExtensionFactory createExtensionFactory() {
                        return new ExtensionFactory() {
                            @Override
                            public <T> T create(Class<T> cls) {
                                return construct(cls, context);
                            }
                        };
                    }
                };
        manager.setSystemVersion(QuiverApi.VERSION);
        try {
            manager.loadPlugins();
            manager.startPlugins();
            PluginWrapper plugin = manager.getPlugin(id);
            if (plugin == null || plugin.getPluginState() != PluginState.STARTED) {
                failures.add(
                        "start: plugin did not start"
                                + (plugin == null
                                        ? " (PF4J did not load it)"
                                        : " ("
                                                + plugin.getPluginState()
                                                + ", "
                                                + plugin.getFailedException()
                                                + ")"));
                return null;
            }
            ClassLoader loader = plugin.getPluginClassLoader();
            for (String cls : manager.getExtensionClassNames(id)) {
                try {
                    Class.forName(cls, false, loader);
                } catch (ClassNotFoundException | LinkageError e) {
                    failures.add(
                            "extensions: "
                                    + cls
                                    + " is listed in extensions.idx but cannot be loaded: "
                                    + e);
                }
            }
            exercise(
                    manager,
                    id,
                    PredictionCapability.class,
                    "prediction",
                    loader,
                    declared,
                    capabilities,
                    failures);
            exercise(
                    manager,
                    id,
                    EnsembleCapability.class,
                    "ensemble",
                    loader,
                    declared,
                    capabilities,
                    failures);
            exercise(
                    manager,
                    id,
                    SizingCapability.class,
                    "sizing",
                    loader,
                    declared,
                    capabilities,
                    failures);
            exercise(
                    manager,
                    id,
                    PortfolioSizingCapability.class,
                    "portfolio",
                    loader,
                    declared,
                    capabilities,
                    failures);
            if (capabilities.isEmpty()) {
                failures.add(
                        "extensions: the plugin provides no prediction, ensemble or sizing extension");
            }
            return new WeakReference<>(loader);
        } catch (RuntimeException | LinkageError e) {
            failures.add("load: " + e);
            return null;
        } finally {
            PluginWrapper plugin = manager.getPlugin(id);
            if (plugin != null) {
                hooks.set(ShutdownHooks.release(plugin.getPluginClassLoader()));
            }
            for (PluginWrapper p : List.copyOf(manager.getPlugins())) {
                manager.unloadPlugin(p.getPluginId());
            }
        }
    }

    private static <T> void exercise(
            DefaultPluginManager manager,
            String id,
            Class<T> type,
            String kind,
            ClassLoader loader,
            List<Capability> declared,
            List<String> capabilities,
            List<String> failures) {
        for (Class<? extends T> cls : manager.getExtensionClasses(type, id)) {
            if (cls.getClassLoader() != loader) {
                failures.add(
                        "extensions: "
                                + cls.getName()
                                + " was loaded by "
                                + cls.getClassLoader()
                                + ", not the plugin's own class loader (is it packed into classes/?)");
            }
            String name;
            try (AutoCloseable probe = (AutoCloseable) construct(cls, context(id, Map.of()))) {
                name = descriptor(probe).name();
            } catch (Exception | LinkageError e) {
                failures.add("create: " + cls.getName() + " could not be created: " + e);
                continue;
            }
            capabilities.add(kind + ":" + name);
            boolean isDeclared =
                    declared.stream()
                            .anyMatch(
                                    c ->
                                            c.namespace().equals("quiver." + kind)
                                                    && name.equals(c.attribute("name")));
            if (!isDeclared) {
                failures.add(
                        "manifest: extension "
                                + cls.getName()
                                + " is "
                                + kind
                                + " '"
                                + name
                                + "' but Provide-Capability declares no quiver."
                                + kind
                                + "; name="
                                + name);
            }
            Class<?> contract =
                    type == PredictionCapability.class
                            ? PredictionCapabilityContract.class
                            : type == SizingCapability.class
                                    ? SizingCapabilityContract.class
                                    : type == PortfolioSizingCapability.class
                                            ? PortfolioSizingCapabilityContract.class
                                            : EnsembleCapabilityContract.class;
            runContract(
                    contract,
                    () -> construct(cls, context(id, Map.of())),
                    kind + ":" + name,
                    failures);
        }
    }

    private static CapabilityDescriptor descriptor(Object extension) {
        if (extension instanceof PredictionCapability p) {
            return p.descriptor();
        }
        if (extension instanceof EnsembleCapability e) {
            return e.descriptor();
        }
        if (extension instanceof PortfolioSizingCapability s) {
            return s.descriptor();
        }
        return ((SizingCapability) extension).descriptor();
    }

    /** Runs every {@code @Test} default method of a contract interface against fresh instances. */
    private static void runContract(
            Class<?> contract,
            java.util.function.Supplier<Object> factory,
            String label,
            List<String> failures) {
        InvocationHandler handler =
                (proxy, method, args) -> {
                    if (method.getName().equals("newPrediction")
                            || method.getName().equals("newSizing")
                            || method.getName().equals("newPortfolioSizing")
                            || method.getName().equals("newEnsemble")) {
                        return factory.get();
                    }
                    if (method.isDefault()) {
                        return InvocationHandler.invokeDefault(proxy, method, args);
                    }
                    if (method.getDeclaringClass() == Object.class) {
                        return switch (method.getName()) {
                            case "hashCode" -> System.identityHashCode(proxy);
                            case "equals" -> proxy == args[0];
                            default -> "contract " + contract.getSimpleName() + " of " + label;
                        };
                    }
                    throw new UnsupportedOperationException(method.toString());
                };
        Object proxy =
                Proxy.newProxyInstance(
                        contract.getClassLoader(), new Class<?>[] {contract}, handler);
        Method[] methods = contract.getMethods();
        Arrays.sort(methods, Comparator.comparing(Method::getName));
        for (Method m : methods) {
            if (!m.isDefault() || !m.isAnnotationPresent(Test.class)) {
                continue;
            }
            try {
                m.invoke(proxy);
            } catch (InvocationTargetException e) {
                Throwable t = e.getCause();
                if (t instanceof TestAbortedException) {
                    // A JUnit assumption: the test does not apply to this capability (e.g. the
                    // state round trip of a policy without fitted state). Skipped, as JUnit would.
                    continue;
                }
                failures.add(
                        "contract "
                                + label
                                + " "
                                + m.getName()
                                + ": "
                                + t.getClass().getSimpleName()
                                + ": "
                                + t.getMessage());
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * Builds an extension as the host's factory would: the {@code @Inject} constructor, or none.
     */
    static <T> T construct(Class<T> cls, PluginContext context) {
        try {
            for (Constructor<?> c : cls.getConstructors()) {
                if (c.isAnnotationPresent(jakarta.inject.Inject.class)) {
                    Object[] args = new Object[c.getParameterCount()];
                    Class<?>[] types = c.getParameterTypes();
                    for (int i = 0; i < args.length; i++) {
                        if (types[i] != PluginContext.class) {
                            throw new IllegalStateException(
                                    cls.getName()
                                            + ": the @Inject constructor may take only PluginContext, not "
                                            + types[i].getName());
                        }
                        args[i] = context;
                    }
                    return cls.cast(c.newInstance(args));
                }
            }
            return cls.getConstructor().newInstance();
        } catch (InvocationTargetException e) {
            Throwable t = e.getCause();
            if (t instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(cls.getName() + " constructor threw " + t, t);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    cls.getName()
                            + " has neither an @Inject constructor nor a public no-argument one",
                    e);
        }
    }

    private static PluginContext context(String id, Map<String, String> config) {
        Map<String, String> copy = Map.copyOf(config);
        return new PluginContext() {
            @Override
            public String pluginId() {
                return id;
            }

            @Override
            public Optional<String> config(String key) {
                return Optional.ofNullable(copy.get(key));
            }
        };
    }

    private static boolean collected(WeakReference<ClassLoader> ref) {
        for (int i = 0; i < 20 && ref.get() != null; i++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return ref.get() == null;
    }

    /**
     * Jar name prefixes of the APIs the host provides to every plugin. A plugin's own copy in
     * {@code lib/} shadows the host's (PF4J loads plugin-first): its own copy of the contract types
     * makes extension lookup fail, and its own {@code slf4j-api} rejects the host's provider ("not
     * a subtype") and drops every log line of the plugin.
     */
    static final List<String> HOST_PROVIDED =
            List.of("quiver-plugins-api-", "pf4j-", "jakarta.inject-api-", "slf4j-api-");

    private static void checkLibraries(Path zip, List<String> failures) {
        try (ZipFile z = new ZipFile(zip.toFile())) {
            z.stream()
                    .map(java.util.zip.ZipEntry::getName)
                    .filter(n -> n.startsWith("lib/") && n.endsWith(".jar"))
                    .map(n -> n.substring("lib/".length()))
                    .filter(n -> HOST_PROVIDED.stream().anyMatch(n::startsWith))
                    .sorted()
                    .forEach(
                            n ->
                                    failures.add(
                                            "lib: "
                                                    + n
                                                    + " is provided by the host; bundling it"
                                                    + " shadows the host's copy (declare it"
                                                    + " <scope>provided</scope>, or exclude it"
                                                    + " from the dependency that brings it)"));
        } catch (IOException e) {
            failures.add("lib: cannot read " + zip + ": " + e.getMessage());
        }
    }

    private static Map<String, String> manifest(Path zip) {
        try (ZipFile z = new ZipFile(zip.toFile())) {
            var entry = z.getEntry("classes/META-INF/MANIFEST.MF");
            if (entry == null) {
                return Map.of();
            }
            try (InputStream in = z.getInputStream(entry)) {
                var out = new java.util.TreeMap<String, String>();
                new Manifest(in)
                        .getMainAttributes()
                        .forEach((k, v) -> out.put(k.toString(), v.toString()));
                return out;
            }
        } catch (IOException e) {
            return Map.of();
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temp folder; leave it
        }
    }
}

package dev.quiver.host.plugin;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Finds cycles among plugins' {@code Plugin-Dependencies} before PF4J sees them: PF4J's resolver
 * throws {@code CyclicDependencyException} for a cycle and loads nothing at all, so one circular
 * pair would take every plugin down. The runtime refuses the members of each cycle instead and
 * loads the rest.
 *
 * <p>Strongly connected components by Tarjan's algorithm (Tarjan 1972, "Depth-first search and
 * linear graph algorithms", SIAM J. Comput. 1(2)); a component of two or more plugins, or a plugin
 * that depends on itself, is a cycle. Dependencies on plugins that are not in the folder are left
 * to PF4J (refused as missing).
 */
final class DependencyCycles {

    private DependencyCycles() {}

    /**
     * The plugin ids a {@code Plugin-Dependencies} header names, e.g. {@code "a@>=1.0.0, b?"} gives
     * {@code [a, b]} (optional marker and version range dropped).
     */
    static List<String> parse(String header) {
        List<String> ids = new ArrayList<>();
        if (header == null || header.isBlank()) {
            return ids;
        }
        for (String part : header.split(",")) {
            String id = part.strip();
            int at = id.indexOf('@');
            if (at >= 0) {
                id = id.substring(0, at).strip();
            }
            if (id.endsWith("?")) {
                id = id.substring(0, id.length() - 1).strip();
            }
            if (!id.isEmpty()) {
                ids.add(id);
            }
        }
        return ids;
    }

    /**
     * Every plugin on a dependency cycle, with the cycle written out.
     *
     * @param dependencies plugin id to the ids it depends on
     * @return plugin id to its cycle, e.g. {@code a -> b -> a}, for each plugin on a cycle; sorted
     */
    static Map<String, String> find(Map<String, List<String>> dependencies) {
        var tarjan = new Tarjan(dependencies);
        for (String id : new TreeMap<>(dependencies).keySet()) {
            if (!tarjan.index.containsKey(id)) {
                tarjan.visit(id);
            }
        }
        Map<String, String> out = new TreeMap<>();
        for (List<String> component : tarjan.components) {
            boolean selfLoop =
                    component.size() == 1
                            && dependencies
                                    .getOrDefault(component.get(0), List.of())
                                    .contains(component.get(0));
            if (component.size() < 2 && !selfLoop) {
                continue;
            }
            String path = walk(component, dependencies);
            component.forEach(id -> out.put(id, path));
        }
        return out;
    }

    /**
     * The shortest closed walk through a component from its smallest id (breadth-first over
     * dependencies inside the component), e.g. {@code a -> b -> a}.
     */
    private static String walk(List<String> component, Map<String, List<String>> dependencies) {
        String start = component.stream().sorted().findFirst().orElseThrow();
        Map<String, String> parent = new HashMap<>();
        java.util.ArrayDeque<String> queue = new java.util.ArrayDeque<>(List.of(start));
        while (!queue.isEmpty()) {
            String at = queue.poll();
            for (String d : dependencies.getOrDefault(at, List.of())) {
                if (d.equals(start)) {
                    List<String> path = new ArrayList<>(List.of(start));
                    for (String v = at; !v.equals(start); v = parent.get(v)) {
                        path.add(1, v);
                    }
                    path.add(start);
                    return String.join(" -> ", path);
                }
                if (component.contains(d) && !parent.containsKey(d)) {
                    parent.put(d, at);
                    queue.add(d);
                }
            }
        }
        throw new IllegalStateException("no cycle through " + start + " in " + component);
    }

    private static final class Tarjan {
        final Map<String, List<String>> graph;
        final Map<String, Integer> index = new HashMap<>();
        final Map<String, Integer> low = new HashMap<>();
        final List<String> stack = new ArrayList<>();
        final List<List<String>> components = new ArrayList<>();
        int counter;

        Tarjan(Map<String, List<String>> graph) {
            this.graph = graph;
        }

        void visit(String v) {
            index.put(v, counter);
            low.put(v, counter);
            counter++;
            stack.add(v);
            for (String w : graph.getOrDefault(v, List.of())) {
                if (!graph.containsKey(w)) {
                    continue;
                }
                if (!index.containsKey(w)) {
                    visit(w);
                    low.put(v, Math.min(low.get(v), low.get(w)));
                } else if (stack.contains(w)) {
                    low.put(v, Math.min(low.get(v), index.get(w)));
                }
            }
            if (low.get(v).equals(index.get(v))) {
                List<String> component = new ArrayList<>();
                String w;
                do {
                    w = stack.remove(stack.size() - 1);
                    component.add(w);
                } while (!w.equals(v));
                components.add(component);
            }
        }
    }
}

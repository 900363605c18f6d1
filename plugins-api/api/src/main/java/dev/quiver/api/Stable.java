package dev.quiver.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a type as part of the stable contract: it changes only under the semantic-versioning rules
 * in {@code docs/plugin-authoring.md} (removals and new abstract methods on types plugins implement
 * are major; additions with defaults are minor).
 *
 * @since 1.0.0
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.TYPE, ElementType.PACKAGE})
public @interface Stable {
    /**
     * API version that introduced the type.
     *
     * @return a semantic version, e.g. {@code "1.0.0"}
     */
    String since();
}

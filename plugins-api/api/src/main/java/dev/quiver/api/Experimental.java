package dev.quiver.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a type or member that may change in a minor release; plugins that use it should pin a
 * narrow {@code Plugin-Requires} range.
 *
 * @since 1.0.0
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.PACKAGE})
public @interface Experimental {
    /**
     * API version that introduced the element.
     *
     * @return a semantic version, e.g. {@code "1.0.0"}
     */
    String since();
}

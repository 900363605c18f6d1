/**
 * OSGi-style capability headers of Quiver plugins: {@link
 * dev.quiver.capabilities.CapabilityHeaders} parses {@code Provide-Capability} / {@code
 * Require-Capability}; {@link dev.quiver.capabilities.Requirement#matches} evaluates a
 * requirement's LDAP filter against a {@link dev.quiver.capabilities.Capability}.
 */
package dev.quiver.capabilities;

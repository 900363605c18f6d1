/**
 * {@code quiver serve}: the live decision service (Javalin HTTP API, Prometheus metrics through
 * Micrometer, an OpenAPI description). Bars in, a fused and risk-guarded decision per sizing policy
 * out, with provenance.
 */
package dev.quiver.host.web;

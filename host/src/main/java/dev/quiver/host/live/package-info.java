/**
 * What the live service decides with, and how it changes while decisions flow: an immutable {@link
 * dev.quiver.host.live.Pipeline} of capability instances, held by a {@link
 * dev.quiver.host.live.PipelineHolder} that swaps it atomically and closes what a swap replaced
 * only after every decision that started on the old pipeline has finished (snapshot and drain).
 * Model hot swaps, plugin reloads and rollouts all change the service through it.
 */
package dev.quiver.host.live;

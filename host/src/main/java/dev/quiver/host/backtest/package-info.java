/**
 * Walk-forward, point-in-time backtest of sizing policies on fused forecasts, with costs, and its
 * reports (JSON, HTML with charts, terminal table).
 */
package dev.quiver.host.backtest;

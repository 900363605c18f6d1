/**
 * One account across many symbols: the point-in-time alignment of series of different intervals and
 * calendars, the shrunk covariance of their returns, and the portfolio limits the host enforces on
 * a joint allocation whatever a portfolio sizing plugin returns (docs/portfolio.md).
 */
package dev.quiver.engine.portfolio;

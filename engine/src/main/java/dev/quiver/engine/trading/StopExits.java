package dev.quiver.engine.trading;

/**
 * How many positions the host's stops closed, per kind.
 *
 * @param stopLoss exits at (or gapped through) the stop-loss
 * @param takeProfit exits at (or gapped through) the take-profit
 * @param trailing exits at (or gapped through) the trailing stop, when it was above the stop-loss
 */
public record StopExits(int stopLoss, int takeProfit, int trailing) {}

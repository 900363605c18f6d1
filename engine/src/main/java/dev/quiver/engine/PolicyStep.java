package dev.quiver.engine;

import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.risk.GuardedDecision;

/**
 * One policy's part of a {@link Step}: what it decided at the bar's close and its book after the
 * bar.
 *
 * @param policy the policy's name
 * @param context what the policy was asked with, or {@code null} when it was not asked (no fused
 *     signal, or the policy is unavailable)
 * @param proposed the risk guard's fraction before the breakers, fraction of equity; 0 when the
 *     policy was not asked
 * @param decision the final decision (guard, then breakers): fraction of equity and the reason
 * @param ordered whether the decision changes the position (outside the rebalance band, or to or
 *     from flat): in paper mode it fills at the next bar's open
 * @param equity the book's equity at the bar's close, quote currency
 * @param drawdown the book's drawdown from its high-water mark at the close, fraction
 * @param weight the position's weight at the close, fraction of equity
 */
public record PolicyStep(
        String policy,
        SizingContext context,
        double proposed,
        GuardedDecision decision,
        boolean ordered,
        double equity,
        double drawdown,
        double weight) {}

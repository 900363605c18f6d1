package dev.quiver.engine.risk;

import java.time.Instant;

/**
 * A circuit breaker changed state.
 *
 * @param time when (the bar start whose observation changed it)
 * @param policy the sizing policy whose account the breaker guards
 * @param breaker which breaker
 * @param event {@link Kind#ARMED}: it tripped and halts new risk; {@link Kind#REARMED}: it reset,
 *     new risk is allowed again and it is ready to trip again
 * @param value the value that tripped or reset it (drawdown or daily loss as a positive fraction,
 *     hit rate as a fraction)
 * @param reason what did it: {@code limit exceeded}, the re-arm rule, or an operator's reason
 */
public record BreakerEvent(
        Instant time,
        String policy,
        CircuitBreakers.Breaker breaker,
        Kind event,
        double value,
        String reason) {

    /** Armed (tripped, halting) or re-armed (reset). */
    public enum Kind {
        /** The breaker tripped: the position is flattened or new risk halted (see the breaker). */
        ARMED("armed"),
        /** The breaker reset under its re-arm rule: new risk is allowed again. */
        REARMED("re-armed");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /**
         * The name in reports.
         *
         * @return {@code armed} or {@code re-armed}
         */
        public String label() {
            return label;
        }
    }
}

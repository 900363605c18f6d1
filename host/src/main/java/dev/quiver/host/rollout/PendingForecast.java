package dev.quiver.host.rollout;

/**
 * What the variants said at a bar whose outcome is not known yet.
 *
 * @param key routing key
 * @param barTime the decision bar's start, ISO-8601
 * @param close the decision bar's close
 * @param champion the champion's output, null if it was not computed or failed
 * @param challenger the challenger's output, null likewise
 * @param acted the role that acted, {@code champion} or {@code challenger}
 * @param stageIndex the stage (counting transitions from 0) the forecast was made in: an outcome
 *     counts toward a stage's test only if its forecast was made in that stage
 */
public record PendingForecast(
        String key,
        String barTime,
        double close,
        VariantOutput champion,
        VariantOutput challenger,
        String acted,
        int stageIndex) {}

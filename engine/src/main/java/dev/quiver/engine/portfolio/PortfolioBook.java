package dev.quiver.engine.portfolio;

import dev.quiver.api.sizing.PortfolioMember;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.PortfolioSizingContext;
import dev.quiver.api.sizing.PortfolioSizingDecision;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.trading.CostModel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * One account across several symbols, sized jointly: the one portfolio stepper that the portfolio
 * backtest ({@code PortfolioBacktest}) and the live sessions on a portfolio account both drive
 * (docs/portfolio.md). It holds the account (cash, each symbol's units, last price and pending
 * target), the account breakers, the point-in-time covariance, and makes the joint decision: every
 * member's latest sizing context and trailing mean gain, the covariance, the policy ({@link
 * PortfolioSizingCapability}), then {@link PortfolioGuard}.
 *
 * <p>A driver calls, per bar of member {@code j}: {@link #open} at the bar's open (the pending
 * target fills with the cost model's costs), then {@link #close} at its close (the account is
 * marked, the breakers observe it, the whole open set is re-sized, and each member's new target, if
 * it moves outside the rebalance band or to or from flat, waits for that member's next open).
 *
 * <p>Not thread-safe: one writer at a time (the live account holds its own monitor).
 */
public final class PortfolioBook {

    private static final long DAY = 86_400_000L;

    /**
     * The account's fixed settings.
     *
     * @param initialEquity starting cash, quote currency, finite and {@code > 0}
     * @param costs charged on every traded notional
     * @param breakers the account breakers (max drawdown, daily loss; the hit-rate breaker is per
     *     symbol and not applied), or {@code null} for none
     * @param limits the caps
     * @param covarianceDays rolling window of daily returns for the covariance, {@code >= 20}
     * @param rebalanceBand a target within this of the current weight is not traded, {@code >= 0}
     */
    public record Settings(
            double initialEquity,
            CostModel costs,
            CircuitBreakers.Config breakers,
            PortfolioLimits limits,
            int covarianceDays,
            double rebalanceBand) {

        /**
         * Validates.
         *
         * @throws IllegalArgumentException naming the field if one is out of range
         */
        public Settings {
            if (!(initialEquity > 0) || Double.isInfinite(initialEquity)) {
                throw new IllegalArgumentException(
                        "initial equity must be finite and > 0, was " + initialEquity);
            }
            if (costs == null || limits == null) {
                throw new IllegalArgumentException("costs and limits are required");
            }
            if (covarianceDays < 20) {
                throw new IllegalArgumentException(
                        "covariance window " + covarianceDays + " days: at least 20");
            }
            if (!(rebalanceBand >= 0) || Double.isInfinite(rebalanceBand)) {
                throw new IllegalArgumentException(
                        "rebalance band must be finite and >= 0, was " + rebalanceBand);
            }
        }
    }

    /**
     * The covariance a decision used.
     *
     * @param symbols the symbols it covers, in row order (the members with a full window)
     * @param fromMillis the window's first grid time (a UTC midnight), epoch ms
     * @param toMillis the window's last grid time (the UTC midnight of the decision's day)
     * @param days the window, daily returns
     * @param shrinkage the Ledoit-Wolf intensity, in {@code [0, 1]}
     * @param matrix the shrunk covariance of daily log returns, row order as {@code symbols}
     */
    public record Covariance(
            List<String> symbols,
            long fromMillis,
            long toMillis,
            int days,
            double shrinkage,
            double[][] matrix) {}

    /**
     * One joint decision and its provenance.
     *
     * @param time the decision time (the triggering bar's close), epoch ms
     * @param trigger the member whose bar closed
     * @param symbols the open set sized together, in member order
     * @param covariance the covariance estimate the decision drew from (all its symbols)
     * @param sized the {@code n x n} covariance of the open set handed to the policy
     * @param current each open symbol's weight before the decision
     * @param proposed the policy's fraction per open symbol (before the host's caps)
     * @param reasons the policy's reason per open symbol (empty strings when it failed)
     * @param inputs the policy's inputs per open symbol (e.g. {@code kelly_raw}: the allocation
     *     before the policy's own caps)
     * @param allocation after {@link PortfolioGuard}'s caps and the breakers
     * @param cluster correlation cluster per open symbol
     * @param binding the limits active at the final allocation (e.g. {@code per_symbol BTC-USD},
     *     {@code gross}, {@code cluster [SPX, NDX]}, {@code breaker flatten})
     * @param notes what the guard changed, one line each (empty: the policy's answer passed)
     * @param breakers {@code armed}, {@code flatten} (a breaker tripped) or {@code no_new_risk}
     *     (the kill switch)
     * @param targets every member's target after this decision (0 outside the open set), in member
     *     order of the book
     * @param ordered per member of the book, whether the target became an order for its next open
     * @param frozen one line per frozen member ({@link #freeze}): its symbol, its weight (held, and
     *     counted against the gross and net caps of this decision) and the reason; empty when none
     */
    public record Decision(
            long time,
            String trigger,
            List<String> symbols,
            Covariance covariance,
            double[][] sized,
            double[] current,
            double[] proposed,
            List<String> reasons,
            List<Map<String, Double>> inputs,
            double[] allocation,
            int[] cluster,
            List<String> binding,
            List<String> notes,
            String breakers,
            double[] targets,
            boolean[] ordered,
            List<String> frozen) {}

    /**
     * The mutable state of the book, for a store to keep and {@link #restore} to put back (the
     * members' latest contexts are not in it: a driver re-observes them with {@link #observe}).
     *
     * @param cash cash, quote currency
     * @param units per member, units held
     * @param price per member, last price seen (NaN before the first)
     * @param pending per member, target waiting for the next open (NaN when none)
     * @param pnl per member, P&amp;L after its costs, quote currency
     * @param traded per member, sum of |traded notional|
     * @param costs per member, costs paid
     * @param done per member, whether it left the book (its series ended or its session closed)
     * @param peak the equity high-water mark of the drawdown breaker
     * @param drawdownTripped whether the max-drawdown breaker is tripped
     * @param drawdownTrippedAt when it tripped, epoch ms
     * @param lossDay the UTC day (epoch days) of the daily-loss breaker
     * @param dayStartEquity equity at that day's first close
     * @param dailyTripped whether the daily-loss breaker is tripped
     * @param trips breaker trips so far
     * @param breakerEvents each trip and re-arm, in time order
     * @param covarianceDay the UTC day of the cached covariance ({@code Long.MIN_VALUE}: none)
     * @param covarianceIndex the members in the cached covariance, row order
     * @param covariance the cached covariance
     * @param decisions joint decisions made
     * @param guardChanges decisions the guard changed
     */
    public record State(
            double cash,
            double[] units,
            double[] price,
            double[] pending,
            double[] pnl,
            double[] traded,
            double[] costs,
            boolean[] done,
            double peak,
            boolean drawdownTripped,
            long drawdownTrippedAt,
            long lossDay,
            double dayStartEquity,
            boolean dailyTripped,
            int trips,
            List<String> breakerEvents,
            long covarianceDay,
            int[] covarianceIndex,
            Covariance covariance,
            int decisions,
            int guardChanges) {}

    private final Settings settings;
    private final PortfolioSizingCapability policy;
    private final List<String> names = new ArrayList<>();
    private double[] barsPerDay = new double[0];
    private double cash;
    private double[] units = new double[0];
    private double[] price = new double[0];
    private double[] pending = new double[0];
    private double[] pnl = new double[0];
    private double[] traded = new double[0];
    private double[] costs = new double[0];
    private boolean[] done = new boolean[0];
    private SizingContext[] latest = new SizingContext[0];
    private double[] latestGain = new double[0];
    private double peak;
    private boolean ddTripped;
    private long ddTrippedAt;
    private long lossDay = Long.MIN_VALUE;
    private double dayStartEquity;
    private boolean dailyTripped;
    private int trips;
    private final List<String> breakerEvents = new ArrayList<>();
    private long covDay = Long.MIN_VALUE;
    private int[] covIndex = new int[0];
    private Covariance cov;
    private int decisions;
    private int guardChanges;
    private boolean halted;
    private String[] frozen = new String[0];

    /**
     * A book with no members yet and all its equity in cash.
     *
     * @param settings the account's settings
     * @param policy the portfolio sizing policy
     */
    public PortfolioBook(Settings settings, PortfolioSizingCapability policy) {
        this.settings = settings;
        this.policy = policy;
        this.cash = settings.initialEquity();
        this.peak = settings.initialEquity();
        this.dayStartEquity = settings.initialEquity();
    }

    /**
     * Adds a member, flat.
     *
     * @param symbol its name, not already a member
     * @param period its bar period, {@code > 0}
     * @return its index in the book
     * @throws IllegalArgumentException if the symbol is a member already or the period is not
     *     positive
     */
    public int join(String symbol, Duration period) {
        if (names.contains(symbol)) {
            throw new IllegalArgumentException(symbol + " is a member of the portfolio already");
        }
        if (period == null || period.isZero() || period.isNegative()) {
            throw new IllegalArgumentException(symbol + ": bar period must be > 0, was " + period);
        }
        int m = names.size() + 1;
        names.add(symbol);
        barsPerDay = Arrays.copyOf(barsPerDay, m);
        barsPerDay[m - 1] = (double) DAY / period.toMillis();
        units = Arrays.copyOf(units, m);
        price = Arrays.copyOf(price, m);
        price[m - 1] = Double.NaN;
        pending = Arrays.copyOf(pending, m);
        pending[m - 1] = Double.NaN;
        pnl = Arrays.copyOf(pnl, m);
        traded = Arrays.copyOf(traded, m);
        costs = Arrays.copyOf(costs, m);
        done = Arrays.copyOf(done, m);
        latest = Arrays.copyOf(latest, m);
        latestGain = Arrays.copyOf(latestGain, m);
        frozen = Arrays.copyOf(frozen, m);
        return m - 1;
    }

    /**
     * The open of member {@code j}'s bar: its price moves to {@code open} and its pending target,
     * if any, fills there (costs charged).
     *
     * @param j the member
     * @param open the bar's open, {@code > 0}
     */
    public void open(int j, double open) {
        if (!Double.isNaN(price[j])) {
            pnl[j] += units[j] * (open - price[j]);
        }
        price[j] = open;
        if (halted && !Double.isNaN(pending[j]) && pending[j] > weight(j)) {
            // decided before the halt: it would add risk now, so it is not filled
            pending[j] = Double.NaN;
        }
        if (!Double.isNaN(pending[j])) {
            double eq = equity();
            double target = pending[j] * eq / open;
            double notional = (target - units[j]) * open;
            double cost = settings.costs().costOf(notional);
            cash -= notional + cost;
            units[j] = target;
            traded[j] += Math.abs(notional);
            costs[j] += cost;
            pnl[j] -= cost;
            pending[j] = Double.NaN;
        }
    }

    /**
     * Sets member {@code j}'s latest state without deciding (a driver restoring the book
     * re-observes what each member saw at its last close).
     *
     * @param j the member
     * @param context its sizing context at its last closed bar, or {@code null} (no signal)
     * @param meanGain its trailing mean gain there, {@code >= 0}
     */
    public void observe(int j, SizingContext context, double meanGain) {
        latest[j] = context;
        latestGain[j] = meanGain;
    }

    /**
     * The close of member {@code j}'s bar: the account marked, the breakers observe it, the whole
     * open set sized jointly, the new targets set for each member's next open.
     *
     * @param j the member
     * @param time the bar's close (the decision time), epoch ms
     * @param close the bar's close price
     * @param context the member's sizing context at this bar (its calibrated signal, volatility and
     *     payoff ratio; equity, drawdown and cap are the book's), or {@code null} without a signal
     * @param meanGain its trailing mean gain of winning one-bar returns through this bar
     * @param ends whether the member's series ends here (its position is sold at this close and it
     *     leaves the book)
     * @param series each member's bars, by member index: read only through {@link
     *     PointInTime#CLOSED_BY} at the covariance window's grid times, so bars closed after {@code
     *     time} may be there; asked only when the covariance is recomputed (once per UTC day)
     * @return the decision, or {@code null} when the open set is empty (every member is then
     *     targeted flat)
     */
    public Decision close(
            int j,
            long time,
            double close,
            SizingContext context,
            double meanGain,
            boolean ends,
            IntFunction<BarData> series) {
        int m = names.size();
        if (!Double.isNaN(price[j])) {
            pnl[j] += units[j] * (close - price[j]);
        }
        price[j] = close;
        latest[j] = context;
        latestGain[j] = meanGain;
        if (ends) {
            sell(j);
        }
        double eq = equity();
        observeBreakers(time, eq);
        refreshCovariance(time, series);
        // the open set: members with a covariance row and a current signal
        List<Integer> open = new ArrayList<>();
        List<Integer> rows = new ArrayList<>();
        for (int k = 0; k < covIndex.length; k++) {
            int i = covIndex[k];
            if (!done[i] && frozen[i] == null && latest[i] != null && latestGain[i] > 0) {
                open.add(i);
                rows.add(k);
            }
        }
        // Frozen members keep their positions: the open set is sized in the room they leave under
        // the gross and net caps.
        double frozenGross = 0;
        double frozenNet = 0;
        List<String> frozenLines = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            if (!done[i] && frozen[i] != null) {
                double w = units[i] == 0 ? 0 : units[i] * price[i] / eq;
                frozenGross += Math.abs(w);
                frozenNet += w;
                frozenLines.add(names.get(i) + " frozen at weight " + w + ": " + frozen[i]);
            }
        }
        PortfolioLimits limits = settings.limits();
        boolean noRoom = false;
        if (frozenGross != 0) {
            double gross = limits.grossCap() - frozenGross;
            double net = limits.netCap() - Math.abs(frozenNet);
            noRoom = !(gross > 0) || !(net > 0);
            if (!noRoom) {
                limits =
                        new PortfolioLimits(
                                limits.perSymbolCap(),
                                gross,
                                net,
                                limits.clusterCap(),
                                limits.clusterCorrelation());
            }
        }
        BreakerState state =
                ddTripped || dailyTripped
                        ? BreakerState.FLATTEN
                        : halted ? BreakerState.NO_NEW_RISK : BreakerState.ARMED;
        double[] targets = new double[m]; // members outside the open set go flat
        Decision made = null;
        if (!open.isEmpty()) {
            int n = open.size();
            double[][] c = new double[n][n];
            List<PortfolioMember> members = new ArrayList<>(n);
            double[] current = new double[n];
            for (int a = 0; a < n; a++) {
                int i = open.get(a);
                for (int b = 0; b < n; b++) {
                    c[a][b] = cov.matrix()[rows.get(a)][rows.get(b)];
                }
                current[a] = units[i] == 0 ? 0 : Math.max(0, units[i] * price[i] / eq);
                SizingContext own = latest[i];
                SizingContext ctx =
                        new SizingContext(
                                own.signal(),
                                eq,
                                Math.max(0, Math.min(0.999999, 1 - eq / peak)),
                                settings.limits().perSymbolCap(),
                                own.volatility(),
                                own.payoffRatio());
                members.add(
                        new PortfolioMember(
                                names.get(i), ctx, latestGain[i], barsPerDay[i], current[a]));
            }
            double[] proposed = new double[n];
            List<String> reasons = new ArrayList<>(n);
            List<Map<String, Double>> inputs = new ArrayList<>(n);
            try {
                PortfolioSizingDecision d =
                        policy.size(new PortfolioSizingContext(members, c, limits.grossCap()));
                for (int a = 0; a < n; a++) {
                    SizingDecision one = a < d.decisions().size() ? d.decisions().get(a) : null;
                    proposed[a] = one == null ? Double.NaN : one.fraction();
                    reasons.add(one == null ? "no decision for this member" : one.reason());
                    inputs.add(one == null ? Map.of() : one.inputs());
                }
            } catch (RuntimeException ex) {
                Arrays.fill(proposed, Double.NaN); // the guard makes it flat and says so
                reasons.clear();
                inputs.clear();
                for (int a = 0; a < n; a++) {
                    reasons.add(
                            "portfolio policy '"
                                    + policy.descriptor().name()
                                    + "' failed: "
                                    + ex.getMessage());
                    inputs.add(Map.of());
                }
            }
            PortfolioGuard.Allocation alloc =
                    PortfolioGuard.apply(proposed, c, current, limits, state);
            if (noRoom) {
                List<String> notes = new ArrayList<>(alloc.notes());
                notes.add(
                        "frozen members hold "
                                + frozenGross
                                + " of equity, the whole gross or net cap: every open member"
                                + " flat");
                alloc =
                        new PortfolioGuard.Allocation(
                                alloc.proposed(), new double[n], alloc.cluster(), notes);
            }
            decisions++;
            if (!alloc.notes().isEmpty()) {
                guardChanges++;
            }
            for (int a = 0; a < n; a++) {
                targets[open.get(a)] = alloc.allocation()[a];
            }
            List<String> symbols = open.stream().map(names::get).toList();
            made =
                    new Decision(
                            time,
                            names.get(j),
                            symbols,
                            cov,
                            c,
                            current,
                            proposed,
                            List.copyOf(reasons),
                            List.copyOf(inputs),
                            alloc.allocation(),
                            alloc.cluster(),
                            binding(symbols, alloc, limits, state),
                            alloc.notes(),
                            switch (state) {
                                case FLATTEN -> "flatten";
                                case NO_NEW_RISK -> "no_new_risk";
                                case ARMED -> "armed";
                            },
                            targets,
                            new boolean[m],
                            List.copyOf(frozenLines));
        }
        boolean[] ordered = made == null ? new boolean[m] : made.ordered();
        for (int i = 0; i < m; i++) {
            if (done[i] || frozen[i] != null) {
                continue;
            }
            double w = units[i] == 0 ? 0 : units[i] * price[i] / eq;
            double target = targets[i];
            boolean toOrFromFlat = (target == 0) != (w == 0);
            if (toOrFromFlat || Math.abs(target - w) > settings.rebalanceBand()) {
                pending[i] = target;
                ordered[i] = true;
            } else {
                pending[i] = Double.NaN;
            }
        }
        return made;
    }

    /**
     * Member {@code j} leaves the book (its session closed): its position is sold at its last price
     * (costs charged) and it is never sized again.
     *
     * @param j the member
     */
    public void leave(int j) {
        sell(j);
    }

    private void sell(int j) {
        double p = price[j];
        if (units[j] != 0 && !Double.isNaN(p)) {
            double notional = -units[j] * p;
            double cost = settings.costs().costOf(notional);
            cash -= notional + cost;
            traded[j] += Math.abs(notional);
            costs[j] += cost;
            pnl[j] -= cost;
        }
        units[j] = 0;
        pending[j] = Double.NaN;
        done[j] = true;
        frozen[j] = null;
    }

    /**
     * Freezes member {@code j} (its driver can no longer trust or step it: live, its session was
     * quarantined), or thaws it. A frozen member keeps its position, valued at its last price and
     * counted in the equity; it is left out of the open set (never sized, no new risk), its pending
     * target is dropped and no order is made for it; its weight counts against the gross and net
     * caps, so the open members are sized in the room it leaves (none left: every open member is
     * flat, and the decision says so); each decision names it with the reason ({@link
     * Decision#frozen}). It leaves the book, sold at its last price, by {@link #leave}. Not part of
     * {@link #snapshot}: like {@link #haltNewRisk}, the driver sets it (after a {@link #restore}
     * too).
     *
     * @param j the member
     * @param reason why, in words; {@code null} thaws it (it is sized again from its next close)
     */
    public void freeze(int j, String reason) {
        frozen[j] = reason;
        if (reason != null) {
            pending[j] = Double.NaN;
        }
    }

    /**
     * Why member {@code i} is frozen.
     *
     * @param i the member
     * @return the reason, or {@code null} when it is not frozen
     */
    public String frozen(int i) {
        return frozen[i];
    }

    /**
     * Halts new risk from the next call on (the operator's kill switch): decisions may keep or
     * reduce positions ({@link BreakerState#NO_NEW_RISK}), and a pending target that would add risk
     * is not filled at the open. Not part of {@link #snapshot}: the driver sets it before each
     * call.
     *
     * @param halted whether new risk is halted
     */
    public void haltNewRisk(boolean halted) {
        this.halted = halted;
    }

    /**
     * Re-arms a tripped max-drawdown breaker by an operator's command: the peak restarts at the
     * current equity.
     *
     * @param time when, epoch ms
     * @param reason why, in words
     * @return whether it was tripped
     */
    public boolean rearmDrawdown(long time, String reason) {
        if (!ddTripped) {
            return false;
        }
        ddTripped = false;
        peak = equity();
        breakerEvents.add(
                Instant.ofEpochMilli(time) + " max_drawdown re-armed by an operator: " + reason);
        return true;
    }

    private void observeBreakers(long time, double eq) {
        CircuitBreakers.Config breakers = settings.breakers();
        if (breakers == null) {
            return;
        }
        long day = Math.floorDiv(time, DAY);
        if (day != lossDay) {
            lossDay = day;
            dayStartEquity = eq;
            dailyTripped = false;
        }
        if (ddTripped
                && breakers.drawdownRearm() == CircuitBreakers.DrawdownRearm.COOLDOWN
                && time - ddTrippedAt >= breakers.drawdownCooldownDays() * DAY) {
            ddTripped = false;
            peak = eq;
            breakerEvents.add(Instant.ofEpochMilli(time) + " max_drawdown re-armed (cooldown)");
        }
        peak = Math.max(peak, eq);
        if (!ddTripped && 1 - eq / peak > breakers.maxDrawdown()) {
            ddTripped = true;
            ddTrippedAt = time;
            trips++;
            breakerEvents.add(
                    Instant.ofEpochMilli(time)
                            + " max_drawdown tripped: equity "
                            + Math.round(eq)
                            + ", peak "
                            + Math.round(peak));
        }
        if (!dailyTripped && 1 - eq / dayStartEquity > breakers.dailyLoss()) {
            dailyTripped = true;
            trips++;
            breakerEvents.add(
                    Instant.ofEpochMilli(time)
                            + " daily_loss tripped: equity "
                            + Math.round(eq)
                            + ", day start "
                            + Math.round(dayStartEquity));
        }
    }

    /** The covariance, once per UTC day, of the members with a full window of closed bars. */
    private void refreshCovariance(long time, IntFunction<BarData> series) {
        long today = Math.floorDiv(time, DAY);
        if (today == covDay) {
            return;
        }
        covDay = today;
        int days = settings.covarianceDays();
        long[] grid = new long[days + 1];
        for (int k = 0; k < grid.length; k++) {
            grid[k] = (today - days + k) * DAY;
        }
        List<Integer> eligible = new ArrayList<>();
        List<BarData> data = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            if (done[i]) {
                continue;
            }
            BarData bars = series.apply(i);
            if (bars != null
                    && bars.size() > 0
                    && PointInTime.CLOSED_BY.visibleIndex(bars, grid[0]) >= 0) {
                eligible.add(i);
                data.add(bars);
            }
        }
        covIndex = eligible.stream().mapToInt(Integer::intValue).toArray();
        if (covIndex.length > 0) {
            LedoitWolf.Estimate e =
                    LedoitWolf.estimate(
                            PointInTime.gridReturns(
                                    data.toArray(BarData[]::new), grid, PointInTime.CLOSED_BY));
            cov =
                    new Covariance(
                            eligible.stream().map(names::get).toList(),
                            grid[0],
                            grid[days],
                            days,
                            e.shrinkage(),
                            e.covariance());
        } else {
            cov = null;
        }
    }

    /** The limits active at the final allocation (a relative tolerance of 1e-9 of the cap). */
    private static List<String> binding(
            List<String> symbols,
            PortfolioGuard.Allocation alloc,
            PortfolioLimits l,
            BreakerState state) {
        double[] f = alloc.allocation();
        List<String> out = new ArrayList<>();
        if (state == BreakerState.FLATTEN) {
            out.add("breaker flatten");
        }
        if (state == BreakerState.NO_NEW_RISK) {
            out.add("halt: no new risk");
        }
        double gross = 0;
        double net = 0;
        for (int i = 0; i < f.length; i++) {
            if (f[i] > 0 && f[i] >= l.perSymbolCap() * (1 - 1e-9)) {
                out.add("per_symbol " + symbols.get(i));
            }
            gross += Math.abs(f[i]);
            net += f[i];
        }
        int[] cluster = alloc.cluster();
        for (int c = 0; c < f.length; c++) {
            List<String> members = new ArrayList<>();
            double sum = 0;
            for (int i = 0; i < f.length; i++) {
                if (cluster[i] == c) {
                    members.add(symbols.get(i));
                    sum += f[i];
                }
            }
            if (members.size() > 1 && sum > 0 && sum >= l.clusterCap() * (1 - 1e-9)) {
                out.add("cluster " + members);
            }
        }
        if (gross > 0 && gross >= l.grossCap() * (1 - 1e-9)) {
            out.add("gross");
        }
        if (net > 0 && Math.abs(net) >= l.netCap() * (1 - 1e-9)) {
            out.add("net");
        }
        return List.copyOf(out);
    }

    /**
     * The account's equity: cash plus every position at its member's last price.
     *
     * @return equity, quote currency
     */
    public double equity() {
        double e = cash;
        for (int i = 0; i < units.length; i++) {
            if (units[i] != 0) {
                e += units[i] * price[i];
            }
        }
        return e;
    }

    /**
     * Member {@code i}'s weight at its last price.
     *
     * @param i the member
     * @return units times price over equity, 0 when flat
     */
    public double weight(int i) {
        return units[i] == 0 ? 0 : units[i] * price[i] / equity();
    }

    /**
     * The members, in index order.
     *
     * @return their symbols
     */
    public List<String> symbols() {
        return List.copyOf(names);
    }

    /**
     * The settings.
     *
     * @return the settings
     */
    public Settings settings() {
        return settings;
    }

    /**
     * The policy.
     *
     * @return the portfolio sizing policy
     */
    public PortfolioSizingCapability policy() {
        return policy;
    }

    /**
     * The book's state (copies).
     *
     * @return the state
     */
    public State snapshot() {
        return new State(
                cash,
                units.clone(),
                price.clone(),
                pending.clone(),
                pnl.clone(),
                traded.clone(),
                costs.clone(),
                done.clone(),
                peak,
                ddTripped,
                ddTrippedAt,
                lossDay,
                dayStartEquity,
                dailyTripped,
                trips,
                List.copyOf(breakerEvents),
                covDay,
                covIndex.clone(),
                cov,
                decisions,
                guardChanges);
    }

    /**
     * Puts back a state taken by {@link #snapshot} of a book with the same members.
     *
     * @param s the state
     * @throws IllegalArgumentException if its arrays do not have one entry per member
     */
    public void restore(State s) {
        int m = names.size();
        if (s.units().length != m
                || s.price().length != m
                || s.pending().length != m
                || s.pnl().length != m
                || s.traded().length != m
                || s.costs().length != m
                || s.done().length != m) {
            throw new IllegalArgumentException(
                    "portfolio state has " + s.units().length + " members, the book " + m);
        }
        cash = s.cash();
        units = s.units().clone();
        price = s.price().clone();
        pending = s.pending().clone();
        pnl = s.pnl().clone();
        traded = s.traded().clone();
        costs = s.costs().clone();
        done = s.done().clone();
        peak = s.peak();
        ddTripped = s.drawdownTripped();
        ddTrippedAt = s.drawdownTrippedAt();
        lossDay = s.lossDay();
        dayStartEquity = s.dayStartEquity();
        dailyTripped = s.dailyTripped();
        trips = s.trips();
        breakerEvents.clear();
        breakerEvents.addAll(s.breakerEvents());
        covDay = s.covarianceDay();
        covIndex = s.covarianceIndex().clone();
        cov = s.covariance();
        decisions = s.decisions();
        guardChanges = s.guardChanges();
    }

    /**
     * Whether member {@code i} left the book.
     *
     * @param i the member
     * @return true once its series ended or its session closed
     */
    public boolean done(int i) {
        return done[i];
    }

    /**
     * Trailing mean of the positive one-bar simple returns over {@code window} bars through each
     * bar (point-in-time); 0 where there is none. The {@code meanGain} of {@link PortfolioMember}.
     *
     * @param close closes, oldest first
     * @param window bars, {@code >= 1}
     * @return per bar the mean gain, a fraction per bar
     */
    public static double[] trailingMeanGain(double[] close, int window) {
        TrailingMeanGain gain = new TrailingMeanGain(window);
        double[] out = new double[close.length];
        for (int t = 0; t < close.length; t++) {
            out[t] = gain.add(close[t]);
        }
        return out;
    }
}

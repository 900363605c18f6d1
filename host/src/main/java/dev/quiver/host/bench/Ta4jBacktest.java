package dev.quiver.host.bench;

import dev.quiver.engine.feature.StreamingFeatures;
import java.util.ArrayList;
import java.util.List;
import org.ta4j.core.BarSeries;
import org.ta4j.core.BaseStrategy;
import org.ta4j.core.Position;
import org.ta4j.core.Rule;
import org.ta4j.core.TradingRecord;
import org.ta4j.core.analysis.cost.LinearTransactionCostModel;
import org.ta4j.core.analysis.cost.ZeroCostModel;
import org.ta4j.core.backtest.BarSeriesManager;
import org.ta4j.core.backtest.TradeOnNextOpenModel;
import org.ta4j.core.indicators.ATRIndicator;
import org.ta4j.core.indicators.EMAIndicator;
import org.ta4j.core.indicators.MACDIndicator;
import org.ta4j.core.indicators.RSIIndicator;
import org.ta4j.core.indicators.bollinger.PercentBIndicator;
import org.ta4j.core.indicators.helpers.ClosePriceIndicator;
import org.ta4j.core.num.Num;
import org.ta4j.core.rules.AbstractRule;

/**
 * The traditional rule backtested the ta4j way, as the benchmark's reference: ta4j indicators (RSI
 * 14, MACD 12/26 with EMA 9 signal, Bollinger %B 20/2, ATR 14), the rule "long while the
 * traditional probability of an up move is above 0.5, flat otherwise", run by ta4j's {@link
 * BarSeriesManager} with orders filled at the next bar's open and a linear cost per trade.
 */
final class Ta4jBacktest {

    /** An entry and exit bar (ta4j execution indexes: the bar whose open fills the order). */
    record Episode(int entryBar, int exitBar) {}

    private Ta4jBacktest() {}

    /**
     * Builds fresh indicators and runs the strategy over {@code series}.
     *
     * @param series ta4j bars (its Num type decides DoubleNum or DecimalNum arithmetic)
     * @param firstTradeBar no entry is signalled before this bar
     * @param costRate cost per side, fraction of traded value (e.g. 0.0015 for 15 bps)
     * @return ta4j's trading record
     */
    static TradingRecord run(BarSeries series, int firstTradeBar, double costRate) {
        ClosePriceIndicator close = new ClosePriceIndicator(series);
        RSIIndicator rsi = new RSIIndicator(close, 14);
        MACDIndicator macd = new MACDIndicator(close, 12, 26);
        EMAIndicator signal = new EMAIndicator(macd, 9);
        PercentBIndicator percentB = new PercentBIndicator(close, 20, 2.0);
        ATRIndicator atr = new ATRIndicator(series, 14);
        Rule up =
                new AbstractRule() {
                    @Override
                    public boolean isSatisfied(int i, TradingRecord record) {
                        if (i < firstTradeBar || i < StreamingFeatures.FIRST_WARM_INDEX) {
                            return false;
                        }
                        double c = close.getValue(i).doubleValue();
                        Num b = percentB.getValue(i);
                        double pb =
                                b.isNaN() ? StreamingFeatures.PERCENT_B_WHEN_FLAT : b.doubleValue();
                        double p =
                                Ta4jReference.probabilityUp(
                                        rsi.getValue(i).doubleValue(),
                                        macd.getValue(i).minus(signal.getValue(i)).doubleValue()
                                                / c,
                                        pb,
                                        atr.getValue(i).doubleValue() / c);
                        return p > 0.5;
                    }
                };
        Rule notUp =
                new AbstractRule() {
                    @Override
                    public boolean isSatisfied(int i, TradingRecord record) {
                        return !up.isSatisfied(i, record);
                    }
                };
        var manager =
                new BarSeriesManager(
                        series,
                        new LinearTransactionCostModel(costRate),
                        new ZeroCostModel(),
                        new TradeOnNextOpenModel());
        return manager.run(new BaseStrategy(up, notUp));
    }

    /**
     * The closed positions as entry and exit bars, plus the open one (exit = -1).
     *
     * @param record ta4j's record
     * @return episodes in time order
     */
    static List<Episode> episodes(TradingRecord record) {
        var out = new ArrayList<Episode>();
        for (Position p : record.getPositions()) {
            out.add(new Episode(p.getEntry().getIndex(), p.getExit().getIndex()));
        }
        Position open = record.getCurrentPosition();
        if (open.isOpened()) {
            out.add(new Episode(open.getEntry().getIndex(), -1));
        }
        return out;
    }
}

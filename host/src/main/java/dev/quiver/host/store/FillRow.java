package dev.quiver.host.store;

import java.util.Objects;

/**
 * A fill in an account (table {@code fills}), identified by the client's id within the account.
 *
 * @param accountId the account, which must exist
 * @param clientFillId the client's id of the fill, unique per account, not blank
 * @param symbol the instrument, not blank
 * @param side buy or sell
 * @param quantity filled quantity in base units, finite
 * @param price fill price in the account currency per base unit, finite
 * @param fee fee charged, in the account currency, finite
 * @param timeMs when it was filled, epoch milliseconds UTC
 */
public record FillRow(
        String accountId,
        String clientFillId,
        String symbol,
        Side side,
        double quantity,
        double price,
        double fee,
        long timeMs) {

    /** Checks the fields; -0.0 becomes 0.0 (SQLite does not keep the sign of zero). */
    public FillRow {
        Checks.text("FillRow", "accountId", accountId);
        Checks.text("FillRow", "clientFillId", clientFillId);
        Checks.text("FillRow", "symbol", symbol);
        Objects.requireNonNull(side, "FillRow.side must not be null");
        quantity = Checks.finite("FillRow", "quantity", quantity);
        price = Checks.finite("FillRow", "price", price);
        fee = Checks.finite("FillRow", "fee", fee);
    }
}

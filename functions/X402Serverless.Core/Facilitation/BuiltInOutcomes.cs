using X402Serverless.Core.Chain;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Facilitation;

/// <summary>The built-in facilitator's answers that carry a verdict: refused, or what the chain shows for the authorization.</summary>
internal static class BuiltInOutcomes
{
    public static SettleOutcome Concluded(AuthorizationState state, EvmNetwork network, DecodedPayment payment) =>
        state.Use == AuthorizationUse.Transferred
            ? new SettleOutcome(true, true, state.Transaction, network.Id, payment.Authorization.From.ToString(), null, null)
            : new SettleOutcome(true, false, null, network.Id, payment.Authorization.From.ToString(), ReasonCodes.AuthorizationConsumedElsewhere,
                "The authorization's nonce was used on chain without its transfer; nothing was paid.");

    /// <summary>Refused when the node's gas estimate is above the ceiling for this transfer method; null when within it.</summary>
    public static SettleOutcome? OverGasCeiling(System.Numerics.BigInteger estimate, long ceiling, DecodedPayment payment) =>
        estimate <= ceiling
            ? null
            : Refused(ReasonCodes.SettlementGasAboveLimit,
                $"Settling this payment would take {estimate} gas, over the {ceiling} this facilitator pays for such a transfer; nothing was sent.", payment);

    public static SettleOutcome Refused(string reason, string? message, DecodedPayment? payment) =>
        new(true, false, null, null, payment?.Authorization.From.ToString(), reason, message);
}

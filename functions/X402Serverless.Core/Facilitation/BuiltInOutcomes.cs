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

    public static SettleOutcome Refused(string reason, string? message, DecodedPayment? payment) =>
        new(true, false, null, null, payment?.Authorization.From.ToString(), reason, message);
}

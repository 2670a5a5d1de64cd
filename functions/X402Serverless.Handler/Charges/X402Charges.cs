using Microsoft.Extensions.Options;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Charges;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Links;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Settlement;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Listings;
using X402Serverless.Handler.Settlement;

namespace X402Serverless.Handler.Charges;

/// <summary>
/// The x402 steps every x402-paid resource takes (paid links and USDC top-ups): check the header against the
/// resource's requirements, ask the facilitator, reserve the nonce as an <see cref="X402Charge"/>.
/// </summary>
internal sealed class X402Charges(
    PaymentVerifier verifier,
    ContractSignatures contracts,
    AuthorizationLookup chain,
    IPaymentStore payments,
    FacilitatorCatalog facilitators,
    SettlementProcessor settlement,
    JobQueues queues,
    PublicUrls urls,
    TimeProvider time,
    IOptions<GatewayOptions> options)
{
    /// <summary>
    /// Decode, match, verify locally: the payment and the requirement it meets, or why not. A contract wallet's
    /// signature reads as invalid here (no node is asked) until <see cref="ResolveAsync"/> asks it.
    /// </summary>
    public PaymentCheck CheckLocally(string header, int version, IReadOnlyList<PaymentRequirement> requirements) =>
        PaymentCheck.Run(header, version, requirements, verifier);

    /// <summary>A local check completed by the contract wallet's word where only that was missing (see <see cref="ContractSignatures"/>).</summary>
    public ValueTask<PaymentCheck> ResolveAsync(PaymentCheck check, CancellationToken cancellationToken) =>
        check.ContractWallet is null ? ValueTask.FromResult(check) : contracts.ResolveAsync(check, cancellationToken);

    public string DefaultFacilitator => facilitators.DefaultKind;

    /// <summary>The link's own facilitator when this host has it, the default otherwise.</summary>
    public string FacilitatorFor(PaidLink link) => link.Facilitator is { } chosen && facilitators.Has(chosen) ? chosen : facilitators.DefaultKind;

    public ValueTask<bool> IsAvailableAsync(string facilitator, CancellationToken cancellationToken) =>
        facilitators.Get(facilitator).IsAvailableAsync(cancellationToken);

    public Task<VerifyOutcome> VerifyAsync(string facilitator, SettleRequest request, CancellationToken cancellationToken) =>
        facilitators.Get(facilitator).VerifyAsync(request, cancellationToken);

    /// <summary>What the facilitator is sent: v1 requirements also name the resource, as the payer signed them.</summary>
    public SettleRequest SettleRequest(HttpRequest request, PaidLink link, DecodedPayment payment, PaymentRequirement requirement)
    {
        var requirementsJson = payment.Version == 1
            ? RequirementJson.V1(requirement, urls.ResourceUrl(request), link.Description ?? link.Name ?? "Paid API call", "", request.Method,
                BazaarExtension.For(link)?.V1OutputSchema(request.Method))!
            : RequirementJson.V2(requirement);
        return new SettleRequest(payment.Version, payment.Raw, requirementsJson);
    }

    /// <summary>
    /// Content-first is credit: a wallet new to this provider (by default), one with too many unsettled or an unpaid
    /// deferred call, or an authorization about to run out waits for settlement instead.
    /// </summary>
    public async Task<string> ModeForAsync(PaidLink link, TransferAuthorization auth, CancellationToken cancellationToken)
    {
        var settings = options.Value.Settlement;
        if (link.Settlement != SettlementModes.Deferred
            || auth.ValidBefore - time.GetUtcNow().ToUnixTimeSeconds() < settings.DeferredMinimumWindowSeconds)
        {
            return SettlementModes.Sync;
        }
        // A first look (is the wallet trusted, and not already at its bound?); the bound itself holds in ReserveAsync,
        // where the count and the reservation are one step.
        var bound = settings.DeferredMaxInFlightPerPayer;
        var history = await payments.GetPayerHistoryAsync(auth.From.ToString(), link.OrganisationId,
            bound == SettlementOptions.NoDeferredBound ? PayerHistory.InFlightCountCap : bound, cancellationToken);
        return history.MayDefer(link.DeferredPayers, bound == SettlementOptions.NoDeferredBound ? int.MaxValue : bound)
            ? SettlementModes.Deferred : SettlementModes.Sync;
    }

    /// <summary>
    /// A Permit2 payment the chain already rules out, asked just before its nonce is reserved (one round trip, Permit2
    /// payments only): its nonce spent at Permit2 while no payment of ours holds it (a burn, another spender's permit
    /// with the same nonce: nothing of it can ever be paid, and its settlement would only search the chain for nothing),
    /// or its payer's address holding code (a contract wallet or an EIP-7702 delegation, whose signatures are not
    /// accepted for Permit2). (reason, message), or null. A node that does not answer rules nothing out: settlement asks again.
    /// </summary>
    public async Task<(string Reason, string Message)?> Permit2RefusalAsync(DecodedPayment payment, PaymentRequirement requirement, string paymentId,
        CancellationToken cancellationToken)
    {
        if (payment.Permit2 is not { } permit || !chain.CanLookUp(requirement.Network))
        {
            return null;
        }
        bool used, hasCode;
        try
        {
            (used, hasCode) = await chain.Permit2PreCheckAsync(requirement.Network, permit.From, permit.Nonce, cancellationToken);
        }
        catch (RpcUnavailableException)
        {
            return null;
        }
        if (hasCode)
        {
            return (ReasonCodes.Permit2InvalidSignature,
                "The payer's address holds code (a contract wallet or an EIP-7702 delegation); contract-wallet signatures are not accepted for Permit2.");
        }
        // A nonce spent by a payment of ours is that payment's to answer (the same permit again, content owed).
        return used && await payments.GetAsync(paymentId, cancellationToken) is null
            ? (ReasonCodes.AuthorizationConsumedElsewhere, "This permit's nonce is already spent at Permit2; nothing was charged. Sign a new one.")
            : null;
    }

    /// <summary>
    /// Reserves the nonce (the replay guard): the charge, or null and the payment that already holds it.
    /// <paramref name="owesContent"/>: a sync settlement left pending owes the payer its content (paid links).
    /// </summary>
    public async Task<(X402Charge? Charge, PaymentRecord? Existing)> ReserveAsync(PaymentRecord record, DecodedPayment payment, PaymentRequirement requirement,
        bool owesContent, CancellationToken cancellationToken)
    {
        var bound = options.Value.Settlement.DeferredMaxInFlightPerPayer;
        if (record.Mode == SettlementModes.Deferred && bound != SettlementOptions.NoDeferredBound)
        {
            // Parallel requests of one wallet all saw it under its bound: only as many as the bound leaves are
            // reserved deferred, the rest wait for settlement (sync) as a wallet at its bound does.
            if (await payments.TryReserveDeferredAsync(record, bound, cancellationToken) is not { } mode)
            {
                return (null, await payments.GetAsync(record.Id, cancellationToken));
            }
            record = record with { Mode = mode };
        }
        else if (!await payments.TryReserveAsync(record, cancellationToken))
        {
            return (null, await payments.GetAsync(record.Id, cancellationToken));
        }
        var receipt = new X402Receipt(payment.Version, record, NetworkName(payment.Version, requirement), null, Deferred: false);
        return (new X402Charge(record, receipt, owesContent, payments, settlement, queues, time, options.Value.Settlement.InlineSettleTimeout), null);
    }

    /// <summary>The network as the payer's protocol generation names it.</summary>
    public static string NetworkName(int version, PaymentRequirement requirement) => version == 1 ? requirement.Network.V1Name! : requirement.Network.Id;
}

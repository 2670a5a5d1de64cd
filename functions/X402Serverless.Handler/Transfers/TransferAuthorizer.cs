using Microsoft.Extensions.Options;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Money;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Transfers;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Transfers;

/// <summary>
/// A payment by transaction hash (x402 TXID draft): the proof matched to the link's requirement and signed by the
/// sending wallet for this link on this gateway, the hash claimed (once, ever, across every link), then the chain
/// asked whether the transfer pays. Every refusal lets go of the hash and charges nothing.
/// </summary>
internal sealed class TransferAuthorizer(
    ITransferClaimStore claims,
    IPaymentStore payments,
    IKycStore kyc,
    Kyc.KycAttestor attestations,
    RpcClients rpc,
    PaymentRequiredResponder paywall,
    PublicUrls urls,
    TimeProvider time,
    IOptions<GatewayOptions> options)
{
    public const string FacilitatorKind = "transfer";

    public async Task<ChargeAuthorization> AuthorizeAsync(HttpContext http, CachedLink cached, TxidProofDecoder.Result decoded)
    {
        var cancellationToken = http.RequestAborted;
        if (decoded.Proof is not { } proof)
        {
            return Paywall(cached, TransferReasons.InvalidPayload, decoded.Message);
        }
        var (requirement, nativeWei) = Match(cached, proof);
        if (requirement is null)
        {
            return Paywall(cached, TransferReasons.RequirementMismatch,
                "accepted must equal one of this link's current requirements (network, amount, asset, payTo); fetch a fresh 402.");
        }
        if (!BoundToLink(http.Request, cached, proof.ResourceUrl))
        {
            return Paywall(cached, TransferReasons.WrongResource, "resource.url must be this link's URL on this gateway, as the 402 gave it.");
        }
        if (PaymentProofHasher.Signer(requirement.Network.ChainId, proof) != proof.From)
        {
            return Paywall(cached, TransferReasons.InvalidSignature, "payload.signature is not the sending wallet's EIP-712 signature of this proof.");
        }
        var link = cached.Link;
        if (link.KycLevel != KycLevels.None
            && !ChargeResults.Verified(await kyc.FindByWalletAsync(proof.From.ToString(), cancellationToken), link)
            && !attestations.Vouches(http.Request, proof.From, link, time.GetUtcNow()))
        {
            return ChargeAuthorization.Refused(ChargeResults.KycRequired(link));
        }

        var settings = options.Value;
        var owner = Guid.NewGuid().ToString("N");
        var now = time.GetUtcNow();
        var claim = new TransferClaim { TxHash = proof.TxHash, Owner = owner, LinkId = link.Id, LeaseUntil = now + settings.Transfers.Lease(settings.UpstreamTimeoutSeconds) };
        switch (await claims.ClaimAsync(claim, now, cancellationToken))
        {
            case TransferClaimOutcome.Consumed:
                return Paywall(cached, TransferReasons.AlreadyUsed, "This transaction has already paid for a call; send a new transfer.");
            case TransferClaimOutcome.Held:
                return Paywall(cached, TransferReasons.InFlight, "This transaction is being used by another request right now.");
        }

        var concluded = false;
        try
        {
            var verdict = await JudgeAsync(cached, requirement, nativeWei, proof, cancellationToken);
            if (verdict.Refusal is { } refusal)
            {
                return refusal;
            }
            // A native payment is recorded at the call's price in the token's units (what payments totals add up);
            // the wei it moved are on chain under its hash.
            var record = Record(proof, requirement, link, nativeWei is null ? verdict.Value : requirement.Amount, now)
                with { Asset = nativeWei is null ? requirement.Network.Asset.ToString() : NativePrice.Asset };
            concluded = true;
            return ChargeAuthorization.Of(new TransferCharge(claims, payments, time, record, owner));
        }
        finally
        {
            if (!concluded)
            {
                // Refused or failed: the hash is free again (a transfer short of confirmations pays later).
                await claims.ReleaseAsync(proof.TxHash, owner, CancellationToken.None);
            }
        }
    }

    /// <summary>The requirement the proof's <c>accepted</c> names: a token one verbatim, or its native-coin form (then with its wei).</summary>
    private (PaymentRequirement? Requirement, System.Numerics.BigInteger? NativeWei) Match(CachedLink cached, TxidProof proof)
    {
        if (cached.Requirements.FirstOrDefault(r => JsonEquality.DeepEquals(proof.Accepted, r.V2Element)) is { } token)
        {
            return (token, null);
        }
        if (proof.Asset != NativePrice.Asset)
        {
            return (null, null);
        }
        foreach (var r in cached.Requirements)
        {
            if (options.Value.Transfers.NativeRateFor(r.Network.ChainId) is { } rate)
            {
                var wei = NativePrice.Wei(r.Amount, r.Network.Decimals, rate);
                if (JsonEquality.DeepEquals(proof.Accepted, NativePrice.AcceptedElement(r, wei)))
                {
                    return (r, wei);
                }
            }
        }
        return (null, null);
    }

    private async Task<(TokenAmount Value, ChargeAuthorization? Refusal)> JudgeAsync(CachedLink cached, PaymentRequirement requirement,
        System.Numerics.BigInteger? nativeWei, TxidProof proof, CancellationToken cancellationToken)
    {
        var network = requirement.Network;
        ObservedTransfer? observed;
        try
        {
            observed = await TransferReader.ReadAsync(rpc.Require(network), proof.TxHash, cancellationToken);
        }
        catch (RpcUnavailableException)
        {
            return (default, ChargeAuthorization.Refused(Problem.Of(StatusCodes.Status503ServiceUnavailable, TransferReasons.RpcUnavailable,
                "The chain cannot be read right now; nothing was charged.", "Present the same transaction again later: it was not used.")));
        }
        if (observed is null)
        {
            return (default, Refusal(TransferReasons.NotFound, $"No mined transaction {proof.TxHash} on {network.Id} (yet)."));
        }
        var transfers = options.Value.Transfers;
        var terms = new TransferTerms(network.ChainId, network.Asset, requirement.PayTo, proof.From,
            nativeWei is { } wei ? new TokenAmount(wei) : requirement.Amount,
            transfers.ConfirmationsFor(network.ChainId), TimeSpan.FromSeconds(transfers.MaxAgeSeconds), Native: nativeWei is not null);
        var verdict = TransferCheck.Judge(observed, terms, time.GetUtcNow());
        return verdict.Pays ? (verdict.Value, null) : (default, Refusal(verdict.Reason!, verdict.Message));

        ChargeAuthorization Refusal(string reason, string? message) => ChargeAuthorization.Refused(ChargeResults.Paywall(paywall, cached, reason, message));
    }

    /// <summary>The signed resource is this link on this gateway: a proof made for another gateway or link does not pay here.</summary>
    private bool BoundToLink(HttpRequest request, CachedLink cached, string url)
    {
        var prefix = urls.LinkBaseUrl(request) + "/l/" + cached.Link.Id;
        return url.StartsWith(prefix, StringComparison.Ordinal)
            && (url.Length == prefix.Length || url[prefix.Length] is '/' or '?');
    }

    private static PaymentRecord Record(TxidProof proof, PaymentRequirement requirement, Core.Links.PaidLink link, TokenAmount value, DateTimeOffset now) => new()
    {
        Id = PaymentId.For(requirement.Network.ChainId, requirement.Network.Asset, proof.From, Hex.Decode(proof.TxHash)),
        LinkId = link.Id,
        OrganisationId = link.OrganisationId,
        Network = requirement.Network.Id,
        Asset = requirement.Network.Asset.ToString(),
        Payer = proof.From.ToString(),
        PayTo = requirement.PayTo.ToString(),
        Nonce = proof.TxHash,
        Amount = value,
        X402Version = 2,
        Status = PaymentStatus.Reserved,
        Facilitator = FacilitatorKind,
        Transaction = proof.TxHash,
        CreatedAt = now,
        UpdatedAt = now,
    };

    private ChargeAuthorization Paywall(CachedLink cached, string reason, string? message) =>
        ChargeAuthorization.Refused(ChargeResults.Paywall(paywall, cached, reason, message));
}

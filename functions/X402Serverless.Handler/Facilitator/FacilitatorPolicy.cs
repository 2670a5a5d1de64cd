using Microsoft.Extensions.Options;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Facilitator;

/// <summary>
/// What the facilitator service settles, checked here whatever the request's own requirements claim: a payment of
/// some value (a 0-value transfer only burns our gas) whose authorization is valid no longer than our MaxTimeoutSeconds.
/// </summary>
internal sealed class FacilitatorPolicy(NetworkRegistry networks, PaymentVerifier verifier, IOptions<GatewayOptions> options, TimeProvider time)
{
    // The same slack the paid path allows a payer's clock.
    private const int ClockSkewSeconds = 6;

    /// <summary>
    /// The payment's network, the reason it is refused (null when the facilitator may go on to verify it), and whether
    /// verifying it asks a contract wallet through the node (its signature is not the payer's own key's).
    /// </summary>
    public (EvmNetwork? Network, string? Reason, string? Message, bool AsksWallet) Check(SettleRequest request)
    {
        var (payment, requirement, _, _) = FacilitatorRequestReader.Read(request, networks, options.Value.MaxTimeoutSeconds);
        if (payment is null || requirement is null)
        {
            // Malformed or foreign: the facilitator's own checks give the precise reason.
            return (null, null, null, false);
        }
        if (payment.Authorization.Value.Sign <= 0 || requirement.Amount.Units.Sign <= 0)
        {
            return (requirement.Network, ReasonCodes.Value, "A 0-value authorization moves no money; this facilitator settles payments only.", false);
        }
        var longest = options.Value.MaxTimeoutSeconds + ClockSkewSeconds;
        if (payment.Authorization.ValidBefore - time.GetUtcNow().ToUnixTimeSeconds() > longest)
        {
            return (requirement.Network, ReasonCodes.ValidBefore, $"The authorization stays valid for more than {options.Value.MaxTimeoutSeconds} s (MaxTimeoutSeconds).", false);
        }
        return (requirement.Network, null, null, verifier.Verify(payment, requirement).ContractDigest is not null);
    }
}

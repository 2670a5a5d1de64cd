using X402Serverless.Core.Links;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;

namespace X402Serverless.Handler.Passes;

/// <summary>
/// Issues the pass a payment bought: the one step every way of paying for a pass ends in (x402, credits, and a
/// card checkout once it is built). Idempotent by payment: the pass id is derived from it, so issuing again for a
/// payment returns the pass it already bought.
/// </summary>
internal sealed class PassIssuer(IPassStore passes, Usage.UsageRecorder usage, TimeProvider time)
{
    /// <returns>The pass, and whether this call issued it (false: it had been issued for this payment before).</returns>
    public async Task<(Pass Pass, bool Issued)> IssueAsync(PaidLink link, PassOffer offer, string holder, string paymentRef, string paidWith,
        CancellationToken cancellationToken)
    {
        var pass = Pass.Issue(link, offer, holder, paymentRef, paidWith, time.GetUtcNow());
        if (await passes.AddAsync(pass, cancellationToken))
        {
            usage.Count(link, UsageKinds.PassSold);
            return (pass, true);
        }
        return (await passes.GetAsync(pass.LinkId, pass.Id, cancellationToken) ?? throw new InvalidOperationException($"Pass {pass.Id} exists and cannot be read."), false);
    }
}

using X402Serverless.Core.Credits;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Charges;

/// <summary>A call paid from an allowance or credits: the hold placed before forwarding, captured to the provider or released.</summary>
public sealed class BalanceCharge(CreditCharges credits, CreditHold hold, PaidLink link, string? payerId = null) : ICharge
{
    private int _concluded;

    /// <summary>The hold this charge captures or releases (an inbox message records it, to refund a failed delivery).</summary>
    public CreditHold Hold => hold;

    public bool CapturesCompleteAnswersOnly => false;

    public bool AlreadyPaid => false;

    /// <summary>Places the hold; null (and why) when the balance, a cap or the link's accepted types refuse it.</summary>
    public static async Task<(BalanceCharge? Charge, string? Reason)> AuthorizeAsync(CreditCharges credits, Payers.Payer payer, PaidLink link, Usd amount,
        CancellationToken cancellationToken, string? holdId = null)
    {
        var (hold, reason) = await credits.HoldAsync(payer, link, amount, cancellationToken, holdId);
        return hold is null ? (null, reason) : (new BalanceCharge(credits, hold, link, payer.Id), null);
    }

    public async Task<ChargeCapture> CaptureAsync(CancellationToken cancellationToken)
    {
        if (!await credits.CaptureAsync(hold, link, cancellationToken))
        {
            // Nothing was paid out: the hold goes back now (callers take a capture's answer as the charge's end) and
            // the answer is withheld.
            if (Interlocked.Exchange(ref _concluded, 1) == 0)
            {
                await credits.ReleaseAsync(hold, CancellationToken.None);
            }
            return new ChargeCapture(CaptureKind.Refused, null, CreditCharges.InsufficientCredits,
                "The credits held for this call were no longer available when it ended; nothing was charged.");
        }
        // Only once captured: a capture that threw is still released, as the hold was not paid out.
        Interlocked.Exchange(ref _concluded, 1);
        return ChargeCapture.Captured(new BalanceReceipt(hold.Amount, hold.FromAllowance, payerId));
    }

    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _concluded, 1) == 0)
        {
            await credits.ReleaseAsync(hold, cancellationToken);
        }
    }
}

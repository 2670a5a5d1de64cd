namespace X402Serverless.Core.Charges;

/// <summary>
/// One call's payment, authorized before the upstream is called (an x402 nonce reserved, a balance held) and then
/// either captured or released by the link's charge policy. The caller releases every charge it did not capture,
/// whatever happened in between, so an authorization never outlives its request.
/// </summary>
public interface ICharge
{
    /// <summary>
    /// Capture cannot be undone (an on-chain transfer), so it waits for the upstream's whole answer: an answer that
    /// fails half-way is released instead of charged. Balances and deferred jobs capture on the status alone.
    /// </summary>
    bool CapturesCompleteAnswersOnly { get; }

    /// <summary>
    /// The money already moved in an earlier request (content owed after it was withheld while settling): releasing
    /// it only keeps the content owed, so it is not an uncharged call.
    /// </summary>
    bool AlreadyPaid { get; }

    /// <summary>Takes the money. Once begun, a capture owns the payment: a later release does nothing.</summary>
    Task<ChargeCapture> CaptureAsync(CancellationToken cancellationToken);

    /// <summary>Gives back what was authorized; the payer pays nothing. Safe to call more than once.</summary>
    Task ReleaseAsync(CancellationToken cancellationToken);
}

namespace X402Serverless.Handler.Idempotency;

/// <summary>Section X402:PaymentIdentifiers: how long x402 payment identifiers hold their calls.</summary>
public sealed class PaymentIdentifierOptions
{
    /// <summary>How long a completed call's answer is given again to a repeat of the same payment and id.</summary>
    public int WindowMinutes { get; set; } = 60;

    /// <summary>
    /// How long a call in flight holds its id: repeats meanwhile get 409 in progress. Past it (the process died with
    /// the call) a repeat takes the id over. Raised to at least the longest a paid call can take (upstream timeout plus
    /// inline settlement plus 30 s), so a live call never loses its id.
    /// </summary>
    public int InFlightSeconds { get; set; } = 180;
}

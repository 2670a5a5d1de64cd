namespace X402Serverless.Core.Charges;

public enum CaptureKind
{
    /// <summary>The money moved (or, deferred, a durable job will move it): the content is delivered.</summary>
    Captured,

    /// <summary>The payment was refused when settled (the facilitator or the chain said no): nothing is delivered.</summary>
    Refused,

    /// <summary>The payment could not be settled now and nothing was broadcast: freed, nothing charged or delivered.</summary>
    Unavailable,

    /// <summary>A settlement is in flight but unconfirmed: the content is withheld until it lands.</summary>
    Pending,
}

/// <summary>What a capture did; the receipt is what the payer is told (settled or refused) when there is one.</summary>
public sealed record ChargeCapture(CaptureKind Kind, ChargeReceipt? Receipt, string? Reason = null, string? Message = null)
{
    public static ChargeCapture Captured(ChargeReceipt receipt) => new(CaptureKind.Captured, receipt);
}

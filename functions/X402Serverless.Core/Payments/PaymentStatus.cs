namespace X402Serverless.Core.Payments;

public enum PaymentStatus
{
    /// <summary>Verified and its nonce held while the upstream is called and settlement runs.</summary>
    Reserved,

    /// <summary>On chain; the transaction hash is recorded.</summary>
    Settled,

    /// <summary>The facilitator refused it; the nonce stays blocked.</summary>
    Failed,
}

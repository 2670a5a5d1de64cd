namespace X402Serverless.Core.Payments;

/// <summary>
/// Life of an x402 payment. Only Pending is picked up by the settlement worker; Reserved and Settling belong to a
/// request in flight and are recovered (never blindly settled) if that request's process died.
/// </summary>
public enum PaymentStatus
{
    /// <summary>Verified and its nonce held while the upstream is called.</summary>
    Reserved,

    /// <summary>A settlement job: the upstream succeeded and the payment must be settled (deferred mode, or recovery).</summary>
    Pending,

    /// <summary>A sync request is settling it inline and will deliver the content only once it lands.</summary>
    Settling,

    /// <summary>On chain; the transaction hash is recorded.</summary>
    Settled,

    /// <summary>Refused for good (bad signature on chain, no funds, revert); the nonce stays blocked.</summary>
    Failed,

    /// <summary>Its authorization ran out (validBefore) before it could be settled; never settled late.</summary>
    Expired,
}

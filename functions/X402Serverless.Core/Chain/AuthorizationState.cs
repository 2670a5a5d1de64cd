namespace X402Serverless.Core.Chain;

/// <summary>What the chain says about one authorization's nonce.</summary>
public enum AuthorizationUse
{
    /// <summary>The nonce is unused: the authorization can still be settled.</summary>
    Unused,

    /// <summary>The nonce was used by a transaction that made this authorization's own transfer: the money moved.</summary>
    Transferred,

    /// <summary>
    /// The nonce was used without this transfer (a 0-value or self-transfer signed with the same nonce, a
    /// cancellation, another recipient): nothing was paid, and nothing ever can be with this authorization.
    /// </summary>
    ConsumedElsewhere,
}

/// <param name="Transaction">The transaction that used the nonce, when one is known.</param>
public sealed record AuthorizationState(AuthorizationUse Use, string? Transaction)
{
    public static readonly AuthorizationState Unused = new(AuthorizationUse.Unused, null);
}

namespace X402Serverless.Core.Signup;

/// <summary>
/// A wallet that signed up, bound to the account it owns: an organisation (<see cref="Provider"/>) or a payer
/// (<see cref="Payer"/>). One per wallet and role; <see cref="Wallet"/> is the lowercase 0x address.
/// </summary>
public sealed record WalletBinding(string Role, string Wallet, string AccountId, DateTimeOffset CreatedAt)
{
    public const string Provider = "provider";

    public const string Payer = "payer";
}

/// <summary>What using a sign-up nonce found.</summary>
public enum NonceUse
{
    /// <summary>This caller used it: it can never be used again.</summary>
    Used,

    /// <summary>Never issued here (or expired and cleaned away).</summary>
    Unknown,

    /// <summary>Issued, and already used by another sign-in.</summary>
    AlreadyUsed,

    /// <summary>Issued, but its lifetime is over.</summary>
    Expired,
}

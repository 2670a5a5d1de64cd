using X402Serverless.Core.Signup;

namespace X402Serverless.Core.Ports;

/// <summary>Sign-In with Ethereum: the nonces the gateway issued, and which wallet owns which account.</summary>
public interface ISignupStore
{
    Task AddNonceAsync(string nonce, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the nonce used, atomically: of any number of concurrent calls with one nonce, exactly one gets
    /// <see cref="NonceUse.Used"/>. A nonce whose <c>expiresAt</c> is not after <paramref name="now"/> is never used.
    /// </summary>
    Task<NonceUse> UseNonceAsync(string nonce, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes nonces that expired before <paramref name="now"/>, used or not, at most <paramref name="max"/>; how many went.</summary>
    Task<int> DeleteExpiredNoncesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    Task<WalletBinding?> FindWalletAsync(string role, string wallet, CancellationToken cancellationToken);

    /// <summary>
    /// Binds the wallet to <paramref name="binding"/>'s account when it has none for that role, or when it is bound to
    /// <paramref name="replacing"/> (an account whose creation never finished). Returns the binding in force afterwards:
    /// <paramref name="binding"/> when this call won, else the one another call made. Concurrent calls: one wins.
    /// </summary>
    Task<WalletBinding> BindWalletAsync(WalletBinding binding, string? replacing, CancellationToken cancellationToken);
}

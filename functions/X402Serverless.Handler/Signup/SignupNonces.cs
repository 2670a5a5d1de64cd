using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Signup;

/// <summary>Issues sign-up nonces (128 random bits, hex: EIP-4361 wants letters and digits) and clears away expired ones now and then.</summary>
internal sealed class SignupNonces(ISignupStore store, IOptions<SignupOptions> options, TimeProvider time)
{
    private const int PurgeBatch = 500;
    private static readonly TimeSpan PurgeEvery = TimeSpan.FromMinutes(1);
    private long _lastPurgeTicks;

    public async Task<(string Nonce, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt)> IssueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var expiresAt = now.AddSeconds(options.Value.NonceSeconds);
        await store.AddNonceAsync(nonce, expiresAt, cancellationToken);
        // Issuing is what fills the store, so it also empties it; one caller a minute per instance does the sweep.
        var last = Interlocked.Read(ref _lastPurgeTicks);
        if (now.UtcTicks - last >= PurgeEvery.Ticks && Interlocked.CompareExchange(ref _lastPurgeTicks, now.UtcTicks, last) == last)
        {
            await store.DeleteExpiredNoncesAsync(now, PurgeBatch, cancellationToken);
        }
        return (nonce, now, expiresAt);
    }
}

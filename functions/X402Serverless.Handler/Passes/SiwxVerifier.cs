using X402Serverless.Core.Links;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Passes;

/// <summary>
/// Checks a request's sign-in-with-x proof for one link (<see cref="SiwxCheck"/>) and spends its nonce, last, so
/// a proof is good for one request: a header seen by someone else is worth nothing once used, and nothing at all
/// after <see cref="SiwxCheck.MaxAge"/>. Used nonces are swept now and then (one caller a minute per instance).
/// </summary>
internal sealed class SiwxVerifier(IPassStore store, NetworkRegistry networks, PublicUrls urls, TimeProvider time)
{
    private const int PurgeBatch = 500;
    private static readonly TimeSpan PurgeEvery = TimeSpan.FromMinutes(1);
    private long _lastPurgeTicks;

    /// <summary>Whether the request carries a proof at all.</summary>
    public static bool Present(HttpRequest request) => request.Headers.ContainsKey(SiwxPayload.HeaderName);

    /// <param name="origin">The origin the request was sent to, as the 402 named it.</param>
    /// <param name="resourcePath">The link's own path (/l/{id} or /pass/{id}): the proof must be for it.</param>
    public async Task<SiwxResult> VerifyAsync(HttpRequest request, PaidLink link, Uri origin, string resourcePath,
        CancellationToken cancellationToken)
    {
        if (SiwxPayload.Parse(request.Headers[SiwxPayload.HeaderName].ToString()) is not { } payload)
        {
            return SiwxResult.Refused("invalid_siwx_header",
                $"{SiwxPayload.HeaderName} must be base64 of the sign-in-with-x JSON proof (domain, address, uri, version, chainId, type, nonce, issuedAt, signature).");
        }
        // The origin a wallet signed for must not come from a relayed Host: a phishing site's proof for its own domain
        // would otherwise match once sent here with that Host. As for sign-up: a public address, or loopback only.
        if (!urls.IsConfigured && !FunctionsHost.IsLoopbackHost(request.Host.Host))
        {
            return SiwxResult.Refused("siwx_needs_public_url",
                "This gateway does not know its public address, so it takes sign-in-with-x on loopback only; the operator sets X402:PublicBaseUrl.");
        }
        var now = time.GetUtcNow();
        var chainIds = link.Networks.Select(id => networks.TryGet(id, out var n) ? n.ChainId : (long?)null).OfType<long>().ToList();
        var result = SiwxCheck.Run(payload, origin, resourcePath, chainIds, now);
        if (result.Wallet is null)
        {
            return result;
        }
        // Per wallet: another wallet signing the same nonce cannot use up this one's proof.
        if (!await store.UseNonceAsync(result.Wallet.Value.ToLowerHex() + ":" + payload.Nonce, result.KeepNonceUntil, cancellationToken))
        {
            return SiwxResult.Refused("invalid_siwx_nonce", "This proof's nonce was used already; sign a new proof (the 402 gives a fresh nonce).");
        }
        await PurgeNowAndThenAsync(now, cancellationToken);
        return result;
    }

    private async Task PurgeNowAndThenAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var last = Interlocked.Read(ref _lastPurgeTicks);
        if (now.UtcTicks - last >= PurgeEvery.Ticks && Interlocked.CompareExchange(ref _lastPurgeTicks, now.UtcTicks, last) == last)
        {
            await store.DeleteExpiredNoncesAsync(now, PurgeBatch, cancellationToken);
        }
    }
}

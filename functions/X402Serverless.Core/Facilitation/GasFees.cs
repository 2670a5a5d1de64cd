using System.Numerics;
using X402Serverless.Core.Chain;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// The fees the gas wallet offers on one chain, read from the node at most once per <see cref="BuiltInFacilitatorOptions.FeeCacheTtl"/>
/// rather than twice per transaction: the max fee carries twice the base fee, headroom for several blocks of the
/// largest rise EIP-1559 allows (12.5% a block), so a figure a block or two old still gets a transaction in.
/// </summary>
internal sealed class GasFees(TimeProvider time, TimeSpan ttl)
{
    private sealed record Quote(BigInteger Tip, BigInteger MaxFee, DateTimeOffset ReadAt);

    private Quote? _quote;
    private Task<Quote>? _reading;
    private readonly Lock _lock = new();

    public async Task<(BigInteger Tip, BigInteger MaxFee)> GetAsync(EvmRpcClient rpc, CancellationToken cancellationToken)
    {
        Task<Quote> reading;
        lock (_lock)
        {
            if (_reading is { IsCompleted: true } done)
            {
                // A finished read becomes the quote; a failed one is dropped, so the next caller reads again.
                if (done.IsCompletedSuccessfully)
                {
                    _quote = done.Result;
                }
                _reading = null;
            }
            if (_quote is { } fresh && time.GetUtcNow() - fresh.ReadAt < ttl)
            {
                return (fresh.Tip, fresh.MaxFee);
            }
            // One read for everyone who finds the quote stale at once.
            reading = _reading ??= ReadAsync(rpc);
        }
        var quote = await reading.WaitAsync(cancellationToken);
        return (quote.Tip, quote.MaxFee);
    }

    private async Task<Quote> ReadAsync(EvmRpcClient rpc)
    {
        // Not the caller's token: the read is shared, and one caller giving up must not fail the others.
        var tip = rpc.MaxPriorityFeeAsync(CancellationToken.None);
        var baseFee = rpc.BaseFeeAsync(CancellationToken.None);
        await Task.WhenAll(tip, baseFee);
        return new Quote(tip.Result, baseFee.Result * 2 + tip.Result, time.GetUtcNow());
    }
}

using System.Collections.Concurrent;
using System.Numerics;
using X402Serverless.Core.Charges;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;

namespace X402Serverless.Handler.Usage;

/// <summary>
/// Counts what happens on paid links in memory and adds the counts to the store every few seconds, so the paid
/// path never waits on a write for analytics. A crash loses at most the last interval's counts, never money.
/// </summary>
internal sealed partial class UsageRecorder(IUsageStore store, TimeProvider time, NetworkRegistry networks, ILogger<UsageRecorder> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<(string Organisation, string Link, string Day, string Kind), long> _pending = new();

    // The day's key string, formatted once a day rather than on every paid-path call.
    private DayStamp? _today;

    public void Count(PaidLink link, string kind) => Add(link, kind, 1);

    /// <summary>
    /// A charged call: counted paid, its amount as revenue of its payment type, and the call and amount against
    /// who paid it. In memory like every counter, so the paid path gains no store round trip.
    /// </summary>
    public void Charged(PaidLink link, ChargeReceipt receipt)
    {
        Add(link, UsageKinds.Paid, 1);
        var (type, micros, payer) = receipt switch
        {
            X402Receipt x => (PaymentTypes.X402, Micros(x.Payment.Amount, x.Payment.Network), PayerKey.OfWallet(x.Payment.Payer, x.Payment.PayTo)),
            BalanceReceipt b => (b.FromAllowance ? PaymentTypes.Allowance : PaymentTypes.Credits, b.Amount.Micros, b.PayerId is { } id ? PayerKey.OfAccount(id) : null),
            _ => (null, 0L, null),
        };
        if (type is null)
        {
            return;
        }
        Add(link, ChargeKinds.Paid(type), 1);
        Add(link, ChargeKinds.Revenue(type), micros);
        if (payer is not null)
        {
            Add(link, ChargeKinds.PayerCalls(payer), 1);
            Add(link, ChargeKinds.PayerUsd(payer), micros);
        }
    }

    /// <summary>A call the upstream failed (nothing charged): counted not charged, and why.</summary>
    public void Failed(PaidLink link, string reason)
    {
        Add(link, UsageKinds.NotCharged, 1);
        Add(link, ChargeKinds.Error(reason), 1);
    }

    private void Add(PaidLink link, string kind, long count) =>
        _pending.AddOrUpdate((link.OrganisationId, link.Id, Today(), kind), count, (_, n) => n + count);

    // Token units in USD micros (USDC has six decimals; a finer token's dust below a micro is not revenue).
    private long Micros(TokenAmount amount, string network)
    {
        var decimals = networks.TryGet(network, out var n) ? n.Decimals : Usd.Decimals;
        var micros = decimals >= Usd.Decimals
            ? amount.Units / BigInteger.Pow(10, decimals - Usd.Decimals)
            : amount.Units * BigInteger.Pow(10, Usd.Decimals - decimals);
        return micros > long.MaxValue ? long.MaxValue : (long)micros;
    }

    /// <summary>When an upstream call starts, on the recorder's clock (for <see cref="Latency"/>).</summary>
    public long Timestamp() => time.GetTimestamp();

    /// <summary>Counts the upstream's latency since <paramref name="started"/> in its histogram bucket (one more counter, no allocation).</summary>
    public void Latency(PaidLink link, long started) =>
        _pending.AddOrUpdate((link.OrganisationId, link.Id, Today(), LatencyHistogram.Kinds[LatencyHistogram.Bucket(time.GetElapsedTime(started))]), 1, (_, n) => n + 1);

    private string Today()
    {
        var now = time.GetUtcNow();
        if (_today is { } today && now.UtcTicks >= today.From && now.UtcTicks < today.Until)
        {
            return today.Day;
        }
        var start = now.UtcDateTime.Date;
        _today = today = new DayStamp(start.Ticks, start.AddDays(1).Ticks, Periods.Day(now));
        return today.Day;
    }

    private sealed record DayStamp(long From, long Until, string Day);

    /// <summary>Moves the counted calls to the store; on failure they go back to be added next time.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var batch = new List<UsageCount>();
        foreach (var key in _pending.Keys)
        {
            // Per-key removal is atomic with concurrent increments: each lands in this batch or in a new entry.
            if (_pending.TryRemove(key, out var n))
            {
                batch.Add(new UsageCount(key.Organisation, key.Link, key.Day, key.Kind, n));
            }
        }
        if (batch.Count == 0)
        {
            return;
        }
        try
        {
            await store.AddAsync(batch, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            foreach (var c in batch)
            {
                _pending.AddOrUpdate((c.OrganisationId, c.LinkId, c.Day, c.Kind), c.Count, (_, n) => n + c.Count);
            }
            Log.FlushFailed(logger, e);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(Interval, time, stoppingToken);
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping: the final flush below
        }
        await FlushAsync(CancellationToken.None);
    }

    private static partial class Log
    {
        [LoggerMessage(70, LogLevel.Warning, "Writing usage counts failed; they are kept and written with the next batch.")]
        public static partial void FlushFailed(ILogger logger, Exception exception);
    }
}

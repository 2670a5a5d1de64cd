using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Access;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Payers;
using X402Serverless.Handler.Credits;
using X402Serverless.Handler.Hosting;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Credits;

/// <summary>The monthly allowance grant on a fake clock: month ends, leap years, repeated and missed runs.</summary>
public sealed class AllowanceResetTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "x402-reset-" + Guid.NewGuid().ToString("N"));
    private readonly TimerWatchingTimeProvider _time = new(new DateTimeOffset(2026, 11, 15, 12, 0, 0, TimeSpan.Zero));
    private readonly SqliteLedger _ledger;
    private readonly SqlitePayerStore _payers;
    private readonly AllowanceReset _reset;
    private readonly string _allowance = Accounts.Allowance("org_a", "payer_a");
    private readonly string _pool = Accounts.Pool("org_a");

    public AllowanceResetTests()
    {
        var database = new SqliteDatabase(Path.Combine(_directory, "x402.db"));
        _ledger = new SqliteLedger(database, _time);
        _payers = new SqlitePayerStore(database);
        _reset = new AllowanceReset(_ledger, _payers);
        new SqliteAccessStore(database).CreateOrganisationAsync(new Organisation("org_a", "A", false, _time.GetUtcNow()),
            new AccessKey("key_a", "org_a", "x", "admin", _time.GetUtcNow()), "hash_a", default).GetAwaiter().GetResult();
        _payers.CreateAsync(new Payer { Id = "payer_a", OrganisationId = "org_a", Name = "A", MonthlyAllowance = Usd.FromMicros(3_000_000), CreatedAt = _time.GetUtcNow() },
            new PayerKey("pk_a", "payer_a", "x402pk_a", _time.GetUtcNow()), "phash_a", default).GetAwaiter().GetResult();
        _ledger.PostAsync(LedgerEntry.Transfer("fund", "pool-topup", Accounts.CardClearing, _pool, Usd.FromMicros(10_000_000)), [], default).GetAwaiter().GetResult();
    }

    [Theory]
    [InlineData("2026-01-31T23:59:59Z", "2026-02-01T00:00:00Z")]
    [InlineData("2028-02-28T12:00:00Z", "2028-03-01T00:00:00Z")] // leap year: Feb 29 exists
    [InlineData("2028-02-29T23:59:59Z", "2028-03-01T00:00:00Z")]
    [InlineData("2027-02-28T23:59:59Z", "2027-03-01T00:00:00Z")]
    [InlineData("2026-12-31T23:00:00Z", "2027-01-01T00:00:00Z")]
    [InlineData("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")] // exactly at a boundary: the next one
    public void The_timer_fires_at_midnight_utc_on_the_first(string now, string next) =>
        Assert.Equal(DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture),
            Periods.NextMonthStart(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public async Task Running_twice_or_late_in_the_same_month_grants_once()
    {
        Assert.Equal(1, await _reset.RunAsync("2026-11", default));
        Assert.Equal(0, await _reset.RunAsync("2026-11", default));
        await Spend(2_000_000);
        Assert.Equal(0, await _reset.RunAsync("2026-11", default)); // late re-run after spending grants nothing more
        Assert.Equal(1_000_000, (await _ledger.BalanceAsync(_allowance, default)).Micros);
        Assert.Equal(7_000_000, (await _ledger.BalanceAsync(_pool, default)).Micros);
        Assert.Equal(0, (await _ledger.TotalAsync(default)).Micros);
    }

    [Fact]
    public async Task A_new_month_sweeps_what_is_left_back_and_grants_afresh_and_missed_months_do_not_stack()
    {
        await _reset.RunAsync("2026-11", default);
        await Spend(2_000_000);
        await _reset.RunAsync("2026-12", default);
        Assert.Equal(3_000_000, (await _ledger.BalanceAsync(_allowance, default)).Micros);
        Assert.Equal(5_000_000, (await _ledger.BalanceAsync(_pool, default)).Micros);

        // January's run was missed; February's grants one month, not two.
        await _reset.RunAsync("2027-02", default);
        Assert.Equal(3_000_000, (await _ledger.BalanceAsync(_allowance, default)).Micros);
        Assert.Equal(5_000_000, (await _ledger.BalanceAsync(_pool, default)).Micros);
    }

    [Fact]
    public async Task A_call_paid_from_the_allowance_while_the_month_ends_does_not_keep_last_months_allowance_with_the_member()
    {
        Assert.Equal(1, await _reset.RunAsync("2026-11", default));
        await Spend(1_000_000);
        // Between the reset reading what is left ($2) and sweeping it, a call pays $0.50 from the allowance.
        var paid = false;
        var hooked = new HookedLedger(_ledger)
        {
            AfterBalance = async account =>
            {
                if (account == _allowance && !paid)
                {
                    paid = true;
                    await Spend(500_000);
                }
            },
        };
        Assert.Equal(1, await new AllowanceReset(hooked, _payers).RunAsync("2026-12", default));
        Assert.True(paid);
        // What was left after the call went back to the pool; the member has December's allowance, no more.
        Assert.Equal(3_000_000, (await _ledger.BalanceAsync(_allowance, default)).Micros);
        Assert.Equal(10_000_000 - 3_000_000 + 1_500_000 - 3_000_000, (await _ledger.BalanceAsync(_pool, default)).Micros);
        Assert.Equal(0, (await _ledger.TotalAsync(default)).Micros);
    }

    [Fact]
    public async Task A_pool_that_cannot_cover_the_grant_grants_what_it_holds()
    {
        await _ledger.PostAsync(LedgerEntry.Transfer("drain", "payout", _pool, Accounts.CardClearing, Usd.FromMicros(9_000_000)), [], default);
        await _reset.RunAsync("2026-11", default);
        Assert.Equal(1_000_000, (await _ledger.BalanceAsync(_allowance, default)).Micros);
        Assert.Equal(0, (await _ledger.BalanceAsync(_pool, default)).Micros);
    }

    [Fact]
    public async Task The_hosted_timer_grants_at_start_and_again_at_each_month_start_on_the_clock()
    {
        _time.SetUtcNow(new DateTimeOffset(2028, 1, 31, 23, 0, 0, TimeSpan.Zero));
        var timer = new AllowanceTimer(_reset, _time, Options.Create(new CreditsOptions()), NullLogger<AllowanceTimer>.Instance);
        using var cts = new CancellationTokenSource();
        await timer.StartAsync(cts.Token);
        await WaitForAsync(() => _ledger.EntryExistsAsync("reset:2028-01:org_a:payer_a:grant", default));
        Assert.False(await _ledger.EntryExistsAsync("reset:2028-02:org_a:payer_a:grant", default));

        var february = new DateTimeOffset(2028, 2, 1, 0, 0, 0, TimeSpan.Zero);
        var march = new DateTimeOffset(2028, 3, 1, 0, 0, 0, TimeSpan.Zero);
        await _time.WaitForTimerDueAtAsync(february, TimeSpan.FromSeconds(10));
        _time.Advance(TimeSpan.FromHours(1)); // 2028-02-01T00:00Z
        await WaitForAsync(() => _ledger.EntryExistsAsync("reset:2028-02:org_a:payer_a:grant", default));

        await _time.WaitForTimerDueAtAsync(march, TimeSpan.FromSeconds(10));
        _time.Advance(TimeSpan.FromDays(28)); // 2028-02-29: a leap day, still February
        // No timer was due, so nothing ran: the wait still ends on the first of March.
        await _time.WaitForTimerDueAtAsync(march, TimeSpan.FromSeconds(10));
        Assert.False(await _ledger.EntryExistsAsync("reset:2028-03:org_a:payer_a:grant", default));
        _time.Advance(TimeSpan.FromDays(1)); // 2028-03-01
        await WaitForAsync(() => _ledger.EntryExistsAsync("reset:2028-03:org_a:payer_a:grant", default));
        await cts.CancelAsync();
        await timer.StopAsync(default);
    }

    private Task<PostResult> Spend(long amount) =>
        _ledger.PostAsync(LedgerEntry.Transfer($"spend:{Guid.NewGuid():N}", "capture", _allowance, Accounts.Earnings("provider"), Usd.FromMicros(amount)), [], default);

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100 && !await condition(); i++)
        {
            await Task.Delay(50);
        }
        Assert.True(await condition());
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

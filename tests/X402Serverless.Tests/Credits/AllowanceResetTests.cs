using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Access;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Payers;
using X402Serverless.Handler.Credits;
using X402Serverless.Handler.Hosting;
using X402Serverless.AzureStorage;
using X402Serverless.Core.Ports;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Credits;

/// <summary>The monthly allowance grant on a fake clock: month ends, leap years, repeated, hourly, missed and failed runs.</summary>
public sealed class AllowanceResetTests : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "x402-reset-" + Guid.NewGuid().ToString("N"));
    private readonly TimerWatchingTimeProvider _time = new(new DateTimeOffset(2026, 11, 15, 12, 0, 0, TimeSpan.Zero));
    private readonly AzuriteFixture _azurite;
    private readonly SqliteLedger _ledger;
    private readonly SqlitePayerStore _payers;
    private readonly AllowanceReset _reset;
    private readonly string _allowance = Accounts.Allowance("org_a", "payer_a");
    private readonly string _pool = Accounts.Pool("org_a");

    public AllowanceResetTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
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
    [InlineData("2026-01-31T23:59:59Z", "2026-02-01T00:00:00Z")] // the last second of a month: the first of the next
    [InlineData("2028-02-28T23:00:00Z", "2028-02-29T00:00:00Z")] // leap year: Feb 29 exists
    [InlineData("2027-02-28T23:59:59Z", "2027-03-01T00:00:00Z")]
    [InlineData("2026-12-31T23:30:00Z", "2027-01-01T00:00:00Z")]
    [InlineData("2026-03-01T00:00:00Z", "2026-03-01T01:00:00Z")] // exactly at a boundary: the next one
    [InlineData("2026-03-01T05:00:00+02:00", "2026-03-01T04:00:00Z")] // hours are UTC hours
    public void The_timer_fires_at_the_start_of_each_utc_hour(string now, string next) =>
        Assert.Equal(DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture),
            Periods.NextHourStart(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture)));

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
    public async Task The_hosted_timer_grants_at_start_then_each_hour_grants_a_new_month_once_and_a_member_added_since()
    {
        _time.SetUtcNow(new DateTimeOffset(2028, 1, 31, 23, 0, 0, TimeSpan.Zero));
        var timer = new AllowanceTimer(_reset, _time, Options.Create(new CreditsOptions()), NullLogger<AllowanceTimer>.Instance);
        using var cts = new CancellationTokenSource();
        await timer.StartAsync(cts.Token);
        await WaitForAsync(() => _ledger.EntryExistsAsync("reset:2028-01:org_a:payer_a:grant", default));
        Assert.False(await _ledger.EntryExistsAsync("reset:2028-02:org_a:payer_a:grant", default));

        // 2028-02-01T00:00Z, the next hour, is a new month: granted once.
        await NextHourAsync(new DateTimeOffset(2028, 2, 1, 0, 0, 0, TimeSpan.Zero));
        await WaitForAsync(() => _ledger.EntryExistsAsync("reset:2028-02:org_a:payer_a:grant", default));
        Assert.Equal(3_000_000, (await _ledger.BalanceAsync(_allowance, default)).Micros);

        // A member added in February is granted February within the hour; the first member is not granted again.
        await AddMemberAsync("payer_b");
        await NextHourAsync(new DateTimeOffset(2028, 2, 1, 1, 0, 0, TimeSpan.Zero));
        await WaitForAsync(() => _ledger.EntryExistsAsync("reset:2028-02:org_a:payer_b:grant", default));
        await NextHourAsync(new DateTimeOffset(2028, 2, 1, 2, 0, 0, TimeSpan.Zero));
        await _time.WaitForTimerDueAtAsync(new DateTimeOffset(2028, 2, 1, 3, 0, 0, TimeSpan.Zero), TimeSpan.FromSeconds(10)); // the 02:00 run is over
        Assert.Equal(3_000_000, (await _ledger.BalanceAsync(_allowance, default)).Micros);
        Assert.Equal(3_000_000, (await _ledger.BalanceAsync(Accounts.Allowance("org_a", "payer_b"), default)).Micros);
        // January's grant went back to the pool when February's was granted.
        Assert.Equal(10_000_000 - 2 * 3_000_000, (await _ledger.BalanceAsync(_pool, default)).Micros);
        await cts.CancelAsync();
        await timer.StopAsync(default);
    }

    [Fact]
    public async Task A_member_whose_grant_fails_does_not_hold_up_the_others_and_the_next_run_grants_it_once()
    {
        await AddMemberAsync("payer_b");
        await AddMemberAsync("payer_c");
        // payer_b's rows are busy this run: reading its allowance fails.
        var busy = true;
        var hooked = new HookedLedger(_ledger)
        {
            AfterBalance = account => busy && account == Accounts.Allowance("org_a", "payer_b")
                ? throw new InvalidOperationException("busy") : Task.CompletedTask,
        };

        var failed = await Assert.ThrowsAsync<AggregateException>(() => new AllowanceReset(hooked, _payers).RunAsync("2026-11", default));
        Assert.Contains("payer_b", Assert.Single(failed.InnerExceptions).Message, StringComparison.Ordinal);
        // The members before and after it were granted (the old run stopped at the first failure).
        Assert.Equal(3_000_000, (await _ledger.BalanceAsync(_allowance, default)).Micros);
        Assert.Equal(3_000_000, (await _ledger.BalanceAsync(Accounts.Allowance("org_a", "payer_c"), default)).Micros);
        Assert.Equal(0, (await _ledger.BalanceAsync(Accounts.Allowance("org_a", "payer_b"), default)).Micros);

        busy = false;
        Assert.Equal(1, await new AllowanceReset(hooked, _payers).RunAsync("2026-11", default));
        Assert.Equal(0, await new AllowanceReset(hooked, _payers).RunAsync("2026-11", default));
        Assert.Equal(3_000_000, (await _ledger.BalanceAsync(Accounts.Allowance("org_a", "payer_b"), default)).Micros);
        Assert.Equal(10_000_000 - 3 * 3_000_000, (await _ledger.BalanceAsync(_pool, default)).Micros);
        Assert.Equal(0, (await _ledger.TotalAsync(default)).Micros);
    }

    [Fact]
    public async Task Two_runs_at_once_never_sweep_back_the_grant_the_other_just_made()
    {
        // Members with nothing left (new this month): run B has found no grant and no sweep for the first of them,
        // and run A (another instance, the same hour) grants the month before B reads that member's balance.
        await AddMemberAsync("payer_b");
        var grantedByA = -1;
        var runB = new AllowanceReset(new HookedLedger(_ledger)
        {
            AfterEntryExists = async key =>
            {
                if (key.EndsWith(":sweep", StringComparison.Ordinal) && grantedByA < 0)
                {
                    grantedByA = await _reset.RunAsync("2026-11", default);
                }
            },
        }, _payers);

        var grantedByB = await runB.RunAsync("2026-11", default);

        Assert.Equal(2, grantedByA + grantedByB); // each member once
        foreach (var payer in new[] { "payer_a", "payer_b" })
        {
            Assert.Equal(3_000_000, (await _ledger.BalanceAsync(Accounts.Allowance("org_a", payer), default)).Micros); // was swept back to the pool
        }
        Assert.Equal(10_000_000 - 2 * 3_000_000, (await _ledger.BalanceAsync(_pool, default)).Micros);
        Assert.Equal(0, (await _ledger.TotalAsync(default)).Micros);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("table")]
    public async Task A_sweep_read_before_another_run_granted_never_takes_back_part_of_that_grant(string store)
    {
        var ledger = store == "sqlite" ? (ILedger)_ledger : await TableLedgerAsync();
        var reset = new AllowanceReset(ledger, _payers);
        Task<PostResult> SpendAsync(long amount) =>
            ledger.PostAsync(LedgerEntry.Transfer($"spend:{Guid.NewGuid():N}", "capture", _allowance, Accounts.Earnings("provider"), Usd.FromMicros(amount)), [], default);
        Assert.Equal(1, await reset.RunAsync("2026-10", default));
        Assert.Equal(PostResult.Posted, await SpendAsync(2_000_000)); // 1,000,000 of October's allowance left
        // Run A has read the 1,000,000 left and found no grant for November. Before its sweep, a call spends exactly
        // what is left, and run B (another instance, the same hour) finds nothing to sweep and grants November.
        var grantChecks = 0;
        var grantedByB = -1;
        var runA = new AllowanceReset(new HookedLedger(ledger)
        {
            AfterEntryExists = async key =>
            {
                if (key.EndsWith(":grant", StringComparison.Ordinal) && ++grantChecks == 2)
                {
                    Assert.Equal(PostResult.Posted, await SpendAsync(1_000_000));
                    grantedByB = await reset.RunAsync("2026-11", default);
                }
            },
        }, _payers);

        var grantedByA = await runA.RunAsync("2026-11", default);

        Assert.Equal((0, 1), (grantedByA, grantedByB));
        Assert.Equal(3_000_000, (await ledger.BalanceAsync(_allowance, default)).Micros); // the whole of November's grant
        Assert.Equal(10_000_000 - 3_000_000 - 3_000_000, (await ledger.BalanceAsync(_pool, default)).Micros);
        Assert.Equal(0, (await ledger.TotalAsync(default)).Micros);
    }

    /// <summary>A Table Storage ledger on fresh tables, its pool funded as the SQLite one is.</summary>
    private async Task<ILedger> TableLedgerAsync()
    {
        var ledger = new TableLedger(_azurite.Tables, _time, AzuriteFixture.UniqueTable("entries"), AzuriteFixture.UniqueTable("accounts"), AzuriteFixture.UniqueTable("caps"));
        await ledger.InitializeAsync(default);
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("fund", "pool-topup", Accounts.CardClearing, _pool, Usd.FromMicros(10_000_000)), [], default));
        return ledger;
    }

    /// <summary>Waits for the timer to be armed for <paramref name="hour"/>, then moves the clock there.</summary>
    private async Task NextHourAsync(DateTimeOffset hour)
    {
        await _time.WaitForTimerDueAtAsync(hour, TimeSpan.FromSeconds(10));
        _time.Advance(hour - _time.GetUtcNow());
    }

    private Task AddMemberAsync(string id) =>
        _payers.CreateAsync(new Payer { Id = id, OrganisationId = "org_a", Name = id, MonthlyAllowance = Usd.FromMicros(3_000_000), CreatedAt = _time.GetUtcNow() },
            new PayerKey("pk_" + id, id, "x402pk_" + id, _time.GetUtcNow()), "phash_" + id, default);

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

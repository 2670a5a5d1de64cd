using X402Serverless.AzureStorage;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stores;

/// <summary>What every ICardTopUpStore adapter must do: keep the first record of a session, whole, and know no other session.</summary>
public abstract class CardTopUpStoreContract
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 4, 0, 0, TimeSpan.Zero);

    protected abstract Task<ICardTopUpStore> StoreAsync();

    [Fact]
    public async Task A_session_is_recorded_once_and_read_back_whole()
    {
        var store = await StoreAsync();
        var session = "cs_test_" + Guid.NewGuid().ToString("N");
        var forPayer = new CardTopUp
        {
            SessionId = session, Kind = CardTopUp.Payer, AccountId = "payer_1", Amount = Usd.Parse("20.00"), Currency = "usd", CreatedAt = Now,
        };
        var forPool = forPayer with { Kind = CardTopUp.Organisation, AccountId = "org_other", Amount = Usd.Parse("999.00") };

        // Concurrent records of one session: one is kept, whole, and the others change nothing.
        var attempts = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => store.AddAsync(i % 2 == 0 ? forPayer : forPool, default))));
        Assert.Single(attempts, a => a);
        var read = await store.GetAsync(session, default);
        Assert.Contains(read, new[] { forPayer, forPool });
        Assert.False(await store.AddAsync(read == forPayer ? forPool : forPayer, default));
        Assert.Equal(read, await store.GetAsync(session, default));

        var second = forPool with { SessionId = "cs_test_" + Guid.NewGuid().ToString("N") };
        Assert.True(await store.AddAsync(second, default));
        var back = await store.GetAsync(second.SessionId, default);
        Assert.Equal(second, back);
        Assert.Equal(Accounts.Pool("org_other"), back!.LedgerAccount);
        Assert.Null(await store.GetAsync("cs_test_never_opened", default));
    }

    [Fact]
    public async Task Top_ups_are_listed_by_when_they_were_opened_oldest_first_and_can_be_forgotten()
    {
        var store = await StoreAsync();
        var opened = Enumerable.Range(0, 4).Select(i => new CardTopUp
        {
            SessionId = $"cs_test_{i}_{Guid.NewGuid():N}", Kind = CardTopUp.Payer, AccountId = "payer_1", Amount = Usd.Parse("5.00"), Currency = "usd",
            CreatedAt = Now.AddDays(-i),
        }).ToList();
        foreach (var topUp in opened)
        {
            Assert.True(await store.AddAsync(topUp, default));
        }

        var between = await store.OpenedBetweenAsync(Now.AddDays(-2), Now, 10, default);
        Assert.Equal([opened[2].SessionId, opened[1].SessionId], between.Select(t => t.SessionId));
        Assert.Equal(opened[2], between[0]);
        Assert.Equal([opened[3].SessionId], (await store.OpenedBetweenAsync(Now.AddDays(-30), Now, 1, default)).Select(t => t.SessionId));

        Assert.True(await store.DeleteUnpaidAsync(opened[2].SessionId, default));
        Assert.False(await store.DeleteUnpaidAsync(opened[2].SessionId, default));
        Assert.Null(await store.GetAsync(opened[2].SessionId, default));
        Assert.Equal([opened[1].SessionId], (await store.OpenedBetweenAsync(Now.AddDays(-2), Now, 10, default)).Select(t => t.SessionId));
    }

    [Fact]
    public async Task A_top_up_marked_paid_is_never_forgotten_and_a_forgotten_one_cannot_be_marked()
    {
        var store = await StoreAsync();
        CardTopUp TopUp() => new()
        {
            SessionId = $"cs_test_{Guid.NewGuid():N}", Kind = CardTopUp.Payer, AccountId = "payer_1", Amount = Usd.Parse("5.00"), Currency = "usd", CreatedAt = Now,
        };
        var paid = TopUp();
        var unpaid = TopUp();
        Assert.True(await store.AddAsync(paid, default));
        Assert.True(await store.AddAsync(unpaid, default));

        // Listed by a sweep, then paid before its delete: the delete leaves it.
        Assert.Contains(paid.SessionId, (await store.OpenedBetweenAsync(Now.AddMinutes(-1), Now.AddMinutes(1), 10, default)).Select(t => t.SessionId));
        Assert.True(await store.MarkPaidAsync(paid.SessionId, default));
        Assert.True(await store.MarkPaidAsync(paid.SessionId, default)); // a redelivered event marks again, harmlessly
        Assert.False(await store.DeleteUnpaidAsync(paid.SessionId, default));
        Assert.Equal(paid, await store.GetAsync(paid.SessionId, default));

        Assert.True(await store.DeleteUnpaidAsync(unpaid.SessionId, default));
        Assert.False(await store.MarkPaidAsync(unpaid.SessionId, default));
        Assert.False(await store.MarkPaidAsync("cs_test_never_opened", default));
        Assert.Null(await store.GetAsync(unpaid.SessionId, default));
    }
}

public sealed class SqliteCardTopUpStoreTests : CardTopUpStoreContract
{
    protected override Task<ICardTopUpStore> StoreAsync() =>
        Task.FromResult<ICardTopUpStore>(new SqliteCardTopUpStore(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"))));
}

public sealed class TableCardTopUpStoreTests(AzuriteFixture azurite) : CardTopUpStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<ICardTopUpStore> StoreAsync()
    {
        var store = new TableCardTopUpStore(azurite.Tables, AzuriteFixture.UniqueTable("cardtopups"));
        await store.InitializeAsync(default);
        return store;
    }
}

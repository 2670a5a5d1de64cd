using X402Serverless.AzureStorage;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stores;

/// <summary>What every ICardChargeStore adapter must do: keep the first record of a PaymentIntent, and move its taken-back total only from what it still is.</summary>
public abstract class CardChargeStoreContract
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 6, 0, 0, TimeSpan.Zero);

    protected abstract Task<ICardChargeStore> StoreAsync();

    [Fact]
    public async Task A_payment_is_recorded_once_and_its_taken_back_total_moves_once_per_step()
    {
        var store = await StoreAsync();
        var pi = "pi_" + Guid.NewGuid().ToString("N");
        var charge = new CardCharge { PaymentIntentId = pi, SessionId = "cs_test_a", CreatedAt = Now };

        Assert.True(await store.AddAsync(charge, default));
        Assert.False(await store.AddAsync(charge with { SessionId = "cs_test_other" }, default));
        Assert.Equal(charge, await store.GetAsync(pi, default));
        Assert.Null(await store.GetAsync("pi_never", default));
        Assert.False(await store.AdvanceAsync("pi_never", 0, 100, CardReversalReasons.Refunded, 100, 0, default));

        // Concurrent steps from the same total: exactly one moves it.
        var moved = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            store.AdvanceAsync(pi, 0, 100 + i, CardReversalReasons.Refunded, 100 + i, 0, default))));
        Assert.Single(moved, m => m);
        var after = (await store.GetAsync(pi, default))!;
        Assert.Equal(100 + Array.IndexOf(moved, true), after.TakenBackCents);
        Assert.Equal((0L, CardReversalReasons.Refunded, "cs_test_a"), (after.PreviousCents, after.Reason, after.SessionId));

        Assert.False(await store.AdvanceAsync(pi, 0, 500, CardReversalReasons.Disputed, after.TakenBackCents, 400, default));
        Assert.True(await store.AdvanceAsync(pi, after.TakenBackCents, 500, CardReversalReasons.Disputed, after.TakenBackCents, 400, default));
        var last = (await store.GetAsync(pi, default))!;
        Assert.Equal((500L, after.TakenBackCents, CardReversalReasons.Disputed), (last.TakenBackCents, last.PreviousCents, last.Reason));
        Assert.Equal((after.TakenBackCents, 400L), (last.RefundedCents, last.DisputedCents));
    }
}

public sealed class SqliteCardChargeStoreTests : CardChargeStoreContract
{
    protected override Task<ICardChargeStore> StoreAsync() =>
        Task.FromResult<ICardChargeStore>(new SqliteCardChargeStore(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"))));
}

public sealed class TableCardChargeStoreTests(AzuriteFixture azurite) : CardChargeStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<ICardChargeStore> StoreAsync()
    {
        var store = new TableCardChargeStore(azurite.Tables, AzuriteFixture.UniqueTable("cardcharges"));
        await store.InitializeAsync(default);
        return store;
    }
}

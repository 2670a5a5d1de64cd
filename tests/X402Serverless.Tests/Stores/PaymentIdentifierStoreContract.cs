using System.Security.Cryptography;
using X402Serverless.AzureStorage;
using X402Serverless.Core.Idempotency;
using X402Serverless.Core.Ports;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IPaymentIdentifierStore adapter must do: one claim wins, owners alone complete, expiry frees and sweeps.</summary>
public abstract class PaymentIdentifierStoreContract
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    protected abstract Task<IPaymentIdentifierStore> StoreAsync();

    private static IdentifiedCall NewCall(string? id = null, string payer = "0xaaaa000000000000000000000000000000000001", DateTimeOffset? expires = null) => new()
    {
        LinkId = "lnk_" + Guid.NewGuid().ToString("N")[..12],
        Payer = payer,
        Id = id ?? "pay_" + Guid.NewGuid().ToString("N"),
        Fingerprint = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
        PaymentId = "pay_" + Guid.NewGuid().ToString("N"),
        Owner = Guid.NewGuid().ToString("N"),
        ExpiresAt = expires ?? Now.AddMinutes(2),
    };

    private static IdentifiedCall Retry(IdentifiedCall call, DateTimeOffset? expires = null) =>
        call with { Owner = Guid.NewGuid().ToString("N"), ExpiresAt = expires ?? call.ExpiresAt };

    [Fact]
    public async Task A_claim_wins_once_then_finds_the_entry_and_a_completed_answer_is_read_back_whole()
    {
        var store = await StoreAsync();
        var call = NewCall();
        Assert.Equal(new IdentifierClaim(true, null), await store.ClaimAsync(call, Now, default));

        var again = await store.ClaimAsync(Retry(call), Now, default);
        Assert.False(again.Claimed);
        Assert.Equal(call.Owner, again.Found!.Owner);
        Assert.False(again.Found.Completed);

        var body = RandomNumberGenerator.GetBytes(RecordedAnswer.MaxBodyBytes);
        var answer = new RecordedAnswer(200, """{"Content-Type":["application/json"]}""", body);
        Assert.True(await store.CompleteAsync(call with { Answer = answer, ExpiresAt = Now.AddHours(1) }, default));
        Assert.False(await store.CompleteAsync(call with { Answer = answer, ExpiresAt = Now.AddHours(1) }, default));

        var read = await store.GetAsync(call.LinkId, call.Payer, call.Id, default);
        Assert.True(read!.Completed);
        Assert.Equal(Now.AddHours(1), read.ExpiresAt);
        Assert.Equal(call.Fingerprint, read.Fingerprint);
        Assert.Equal(call.PaymentId, read.PaymentId);
        Assert.Equal(200, read.Answer!.Status);
        Assert.Equal(answer.Headers, read.Answer.Headers);
        Assert.Equal(body, read.Answer.Body);
    }

    [Fact]
    public async Task An_answer_without_its_body_keeps_no_body()
    {
        var store = await StoreAsync();
        var call = NewCall();
        await store.ClaimAsync(call, Now, default);
        Assert.True(await store.CompleteAsync(call with { Answer = new RecordedAnswer(200, "{}", null) }, default));
        Assert.Null((await store.GetAsync(call.LinkId, call.Payer, call.Id, default))!.Answer!.Body);
    }

    [Fact]
    public async Task Keys_are_scoped_by_link_and_payer()
    {
        var store = await StoreAsync();
        var call = NewCall();
        await store.ClaimAsync(call, Now, default);
        Assert.True((await store.ClaimAsync(NewCall(call.Id) with { LinkId = call.LinkId, Payer = "0xbbbb000000000000000000000000000000000002" }, Now, default)).Claimed);
        Assert.True((await store.ClaimAsync(NewCall(call.Id, call.Payer), Now, default)).Claimed);
    }

    [Fact]
    public async Task Only_the_owner_completes_or_abandons_and_an_abandoned_id_is_free_again()
    {
        var store = await StoreAsync();
        var call = NewCall();
        await store.ClaimAsync(call, Now, default);
        var stranger = Retry(call);
        Assert.False(await store.CompleteAsync(stranger with { Answer = new RecordedAnswer(200, "{}", null) }, default));
        await store.AbandonAsync(call.LinkId, call.Payer, call.Id, stranger.Owner, default);
        Assert.NotNull(await store.GetAsync(call.LinkId, call.Payer, call.Id, default));

        await store.AbandonAsync(call.LinkId, call.Payer, call.Id, call.Owner, default);
        Assert.Null(await store.GetAsync(call.LinkId, call.Payer, call.Id, default));
        Assert.True((await store.ClaimAsync(stranger, Now, default)).Claimed);
    }

    [Fact]
    public async Task A_completed_entry_is_not_abandoned()
    {
        var store = await StoreAsync();
        var call = NewCall();
        await store.ClaimAsync(call, Now, default);
        await store.CompleteAsync(call with { Answer = new RecordedAnswer(200, "{}", null) }, default);
        await store.AbandonAsync(call.LinkId, call.Payer, call.Id, call.Owner, default);
        Assert.True((await store.GetAsync(call.LinkId, call.Payer, call.Id, default))!.Completed);
    }

    [Fact]
    public async Task An_expired_entry_is_taken_over_once_and_reported_and_the_old_owner_can_no_longer_complete()
    {
        var store = await StoreAsync();
        var call = NewCall(expires: Now.AddMinutes(1));
        await store.ClaimAsync(call, Now, default);
        Assert.False((await store.ClaimAsync(Retry(call, Now.AddMinutes(5)), Now.AddSeconds(59), default)).Claimed);

        var later = Now.AddMinutes(1);
        var claims = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => store.ClaimAsync(Retry(call, later.AddMinutes(2)), later, default))));

        var won = Assert.Single(claims, c => c.Claimed);
        Assert.Equal(call.Owner, won.Found!.Owner);
        Assert.False(won.Found.Completed);
        Assert.False(await store.CompleteAsync(call with { Answer = new RecordedAnswer(200, "{}", null) }, default));
    }

    [Fact]
    public async Task Fifty_concurrent_claims_of_a_new_key_let_exactly_one_win()
    {
        var store = await StoreAsync();
        var call = NewCall();
        var claims = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => store.ClaimAsync(Retry(call), Now, default))));
        var winner = Assert.Single(claims, c => c.Claimed);
        Assert.Null(winner.Found);
        Assert.All(claims.Where(c => !c.Claimed), c => Assert.NotNull(c.Found));
    }

    [Fact]
    public async Task The_sweep_deletes_only_expired_entries()
    {
        var store = await StoreAsync();
        var old = NewCall(expires: Now.AddMinutes(-1));
        var fresh = NewCall(expires: Now.AddMinutes(10));
        await store.ClaimAsync(old, Now.AddMinutes(-2), default);
        await store.ClaimAsync(fresh, Now, default);

        Assert.True(await store.DeleteExpiredAsync(Now, 100, default) >= 1);
        Assert.Null(await store.GetAsync(old.LinkId, old.Payer, old.Id, default));
        Assert.NotNull(await store.GetAsync(fresh.LinkId, fresh.Payer, fresh.Id, default));
    }
}

public sealed class SqlitePaymentIdentifierStoreTests : PaymentIdentifierStoreContract
{
    protected override Task<IPaymentIdentifierStore> StoreAsync() =>
        Task.FromResult<IPaymentIdentifierStore>(new SqlitePaymentIdentifierStore(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"))));
}

public sealed class TablePaymentIdentifierStoreTests(AzuriteFixture azurite) : PaymentIdentifierStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<IPaymentIdentifierStore> StoreAsync()
    {
        var store = new TablePaymentIdentifierStore(azurite.Tables, AzuriteFixture.UniqueTable("payids"));
        await store.InitializeAsync(default);
        return store;
    }
}

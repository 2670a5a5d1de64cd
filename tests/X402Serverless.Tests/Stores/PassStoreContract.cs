using X402Serverless.AzureStorage;
using X402Serverless.Core.Money;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IPassStore adapter must do: issue once, spend atomically (one last call, one winner) under a spend kept or given back once, expire, revoke, nonces once.</summary>
public abstract class PassStoreContract
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    protected abstract Task<IPassStore> StoreAsync();

    private static string NewSpend() => "spd_" + Guid.NewGuid().ToString("N");

    private static Pass NewPass(string? linkId = null, string holder = "payer:pyr_1", int? calls = 3, DateTimeOffset? expires = null, DateTimeOffset? created = null)
    {
        var paymentRef = "pay_" + Guid.NewGuid().ToString("N");
        linkId ??= "lnk_" + Guid.NewGuid().ToString("N")[..12];
        return new Pass
        {
            Id = PassIds.For(linkId, paymentRef),
            LinkId = linkId,
            OrganisationId = "org_1",
            Holder = holder,
            Price = Usd.Parse("1.50"),
            PaymentRef = paymentRef,
            PaidWith = "x402",
            Calls = calls,
            CallsLeft = calls,
            ExpiresAt = expires,
            CreatedAt = created ?? Now,
        };
    }

    [Fact]
    public async Task A_pass_is_added_once_and_read_back_whole()
    {
        var store = await StoreAsync();
        var pass = NewPass(expires: Now.AddHours(1));
        Assert.True(await store.AddAsync(pass, default));
        Assert.False(await store.AddAsync(pass with { Holder = "payer:someone_else" }, default));
        Assert.Equal(pass, await store.GetAsync(pass.LinkId, pass.Id, default));
        Assert.Null(await store.GetAsync(pass.LinkId, "pas_missing", default));
        Assert.Null(await store.GetAsync("lnk_other", pass.Id, default));
    }

    [Fact]
    public async Task Spending_takes_one_call_at_a_time_until_none_is_left_and_a_spend_given_back_returns_its_call_once()
    {
        var store = await StoreAsync();
        var pass = NewPass(calls: 2);
        await store.AddAsync(pass, default);
        var (firstSpend, secondSpend) = (NewSpend(), NewSpend());

        var first = await store.TrySpendAsync(pass.LinkId, pass.Holder, Now, firstSpend, default);
        Assert.Equal(1, first!.CallsLeft);
        var second = await store.TrySpendAsync(pass.LinkId, pass.Holder, Now, secondSpend, default);
        Assert.Equal(0, second!.CallsLeft);
        Assert.Null(await store.TrySpendAsync(pass.LinkId, pass.Holder, Now, NewSpend(), default));
        Assert.Equal(PassStatuses.Spent, (await store.GetAsync(pass.LinkId, pass.Id, default))!.Status(Now));

        // Given back however often or concurrently it is asked: one call comes back.
        var given = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => store.GiveBackSpendAsync(pass.LinkId, secondSpend, Now, default))));
        Assert.Single(given, g => g);
        Assert.Equal(1, (await store.GetAsync(pass.LinkId, pass.Id, default))!.CallsLeft);
        Assert.False(await store.ConcludeSpendAsync(pass.LinkId, secondSpend, default)); // given back: its call is not kept

        Assert.Equal(SpendState.GivenBack, await store.SpendStateAsync(pass.LinkId, secondSpend, default));

        // A concluded spend keeps its call (concluding it again says so): nothing comes back for it.
        Assert.Equal(SpendState.Taken, await store.SpendStateAsync(pass.LinkId, firstSpend, default));
        Assert.True(await store.ConcludeSpendAsync(pass.LinkId, firstSpend, default));
        Assert.True(await store.ConcludeSpendAsync(pass.LinkId, firstSpend, default));
        Assert.Equal(SpendState.Kept, await store.SpendStateAsync(pass.LinkId, firstSpend, default));
        Assert.False(await store.GiveBackSpendAsync(pass.LinkId, firstSpend, Now, default));
        Assert.Equal(1, (await store.GetAsync(pass.LinkId, pass.Id, default))!.CallsLeft);
        Assert.NotNull(await store.TrySpendAsync(pass.LinkId, pass.Holder, Now, NewSpend(), default));
    }

    [Fact]
    public async Task Stale_spends_are_those_neither_concluded_nor_given_back_taken_before_the_cut_off()
    {
        var store = await StoreAsync();
        var pass = NewPass(calls: 5);
        var timeOnly = NewPass(linkId: pass.LinkId, holder: "payer:pyr_time", calls: null, expires: Now.AddHours(1));
        await store.AddAsync(pass, default);
        await store.AddAsync(timeOnly, default);
        var (concluded, givenBack, crashed, recent) = (NewSpend(), NewSpend(), NewSpend(), NewSpend());
        foreach (var spend in new[] { concluded, givenBack, crashed })
        {
            Assert.NotNull(await store.TrySpendAsync(pass.LinkId, pass.Holder, Now, spend, default));
        }
        Assert.NotNull(await store.TrySpendAsync(pass.LinkId, pass.Holder, Now.AddMinutes(10), recent, default));
        Assert.NotNull(await store.TrySpendAsync(timeOnly.LinkId, timeOnly.Holder, Now, NewSpend(), default)); // nothing taken, nothing recorded
        Assert.True(await store.ConcludeSpendAsync(pass.LinkId, concluded, default));
        Assert.True(await store.GiveBackSpendAsync(pass.LinkId, givenBack, Now, default));

        var stale = (await store.StaleSpendsAsync(Now.AddMinutes(5), 100, default)).Where(s => s.LinkId == pass.LinkId).ToList();

        Assert.Equal([(pass.LinkId, crashed)], stale);
        Assert.True(await store.GiveBackSpendAsync(pass.LinkId, crashed, Now, default));
        Assert.Equal(5 - 2, (await store.GetAsync(pass.LinkId, pass.Id, default))!.CallsLeft); // concluded and recent stay taken
        Assert.DoesNotContain(await store.StaleSpendsAsync(Now.AddMinutes(5), 100, default), s => s.LinkId == pass.LinkId);
        Assert.Equal(2, (await store.ListForLinkAsync(pass.LinkId, 10, default)).Count); // spends are not passes
        Assert.Null(await store.GetAsync(pass.LinkId, "spend_" + recent, default));

        // The marks of spends given back are forgotten a while later, never the spends still taken.
        Assert.True(await store.ForgetGivenBackSpendsAsync(Now.AddDays(1), 1000, default) >= 2);
        Assert.Equal(SpendState.Kept, await store.SpendStateAsync(pass.LinkId, givenBack, default));
        Assert.Equal(SpendState.Taken, await store.SpendStateAsync(pass.LinkId, recent, default));
    }

    [Fact]
    public async Task A_call_given_back_once_per_key_comes_back_once_however_often_or_concurrently_it_is_asked()
    {
        var store = await StoreAsync();
        var pass = NewPass(calls: 2);
        await store.AddAsync(pass, default);
        await store.TrySpendAsync(pass.LinkId, pass.Holder, Now, NewSpend(), default);
        await store.TrySpendAsync(pass.LinkId, pass.Holder, Now, NewSpend(), default);

        // Fifty concurrent give-backs for one key, while the pass is spent and given back for other reasons.
        var given = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => store.GiveBackOnceAsync(pass.LinkId, pass.Id, "msg_a:inbox-refund", Now, default))));
        Assert.Single(given, g => g);
        Assert.False(await store.GiveBackOnceAsync(pass.LinkId, pass.Id, "msg_a:inbox-refund", Now, default));
        Assert.Equal(1, (await store.GetAsync(pass.LinkId, pass.Id, default))!.CallsLeft);

        // Another key gives another call; the records are not passes (the link's list is unchanged).
        Assert.True(await store.GiveBackOnceAsync(pass.LinkId, pass.Id, "msg_b:inbox-refund", Now, default));
        Assert.Equal(2, (await store.GetAsync(pass.LinkId, pass.Id, default))!.CallsLeft);
        Assert.Equal(pass.Id, Assert.Single(await store.ListForLinkAsync(pass.LinkId, 10, default)).Id);
        Assert.Equal(pass.Id, Assert.Single(await store.ListForHolderAsync(pass.Holder, null, 10, default)).Id);

        // A pass bounded by time alone, or one gone: only the record, once.
        var timed = NewPass(calls: null, expires: Now.AddHours(1));
        await store.AddAsync(timed, default);
        Assert.True(await store.GiveBackOnceAsync(timed.LinkId, timed.Id, "msg_c:inbox-refund", Now, default));
        Assert.False(await store.GiveBackOnceAsync(timed.LinkId, timed.Id, "msg_c:inbox-refund", Now, default));
        Assert.Null((await store.GetAsync(timed.LinkId, timed.Id, default))!.CallsLeft);
        Assert.True(await store.GiveBackOnceAsync(timed.LinkId, "pas_missing", "msg_d:inbox-refund", Now, default));
        Assert.Null(await store.GetAsync(timed.LinkId, "pas_missing", default));
    }

    [Fact]
    public async Task Concurrent_spends_and_give_backs_of_one_pass_all_land()
    {
        var store = await StoreAsync();
        var pass = NewPass(calls: 40);
        await store.AddAsync(pass, default);
        // Twenty spends racing twenty keyed give-backs: each one's write is retried after a lost race, none is lost.
        await Task.WhenAll(Enumerable.Range(0, 20).SelectMany(i => new[]
        {
            Task.Run(async () => Assert.NotNull(await store.TrySpendAsync(pass.LinkId, pass.Holder, Now, NewSpend(), default))),
            Task.Run(async () => Assert.True(await store.GiveBackOnceAsync(pass.LinkId, pass.Id, $"msg_{i}:inbox-refund", Now, default))),
        }));
        Assert.Equal(40, (await store.GetAsync(pass.LinkId, pass.Id, default))!.CallsLeft);
    }

    [Fact]
    public async Task Only_the_holders_own_pass_on_that_link_is_spent()
    {
        var store = await StoreAsync();
        var pass = NewPass();
        await store.AddAsync(pass, default);
        Assert.Null(await store.TrySpendAsync(pass.LinkId, "wallet:0x0000000000000000000000000000000000000001", Now, NewSpend(), default));
        Assert.Null(await store.TrySpendAsync("lnk_other", pass.Holder, Now, NewSpend(), default));
        Assert.Equal(3, (await store.GetAsync(pass.LinkId, pass.Id, default))!.CallsLeft);
    }

    [Fact]
    public async Task An_expired_or_revoked_pass_is_not_spent_and_the_one_ending_soonest_is_spent_first()
    {
        var store = await StoreAsync();
        var link = "lnk_" + Guid.NewGuid().ToString("N")[..12];
        var expired = NewPass(link, expires: Now.AddMinutes(-1));
        var later = NewPass(link, expires: Now.AddHours(2));
        var sooner = NewPass(link, expires: Now.AddHours(1));
        var revoked = NewPass(link, expires: Now.AddMinutes(30));
        foreach (var p in new[] { expired, later, sooner, revoked })
        {
            await store.AddAsync(p, default);
        }
        Assert.True(await store.RevokeAsync(revoked.LinkId, revoked.Id, Now, PassRevocations.Refunded, default));
        // The first revocation's reason stays.
        Assert.False(await store.RevokeAsync(revoked.LinkId, revoked.Id, Now.AddMinutes(1), PassRevocations.Provider, default));
        Assert.False(await store.RevokeAsync(link, "pas_missing", Now, PassRevocations.Provider, default));
        Assert.False(await store.RevokeAsync("lnk_other", later.Id, Now, PassRevocations.Provider, default));
        var read = (await store.GetAsync(revoked.LinkId, revoked.Id, default))!;
        Assert.Equal((PassStatuses.Revoked, PassRevocations.Refunded, Now), (read.Status(Now), read.RevokedReason, read.RevokedAt!.Value));
        Assert.Null((await store.GetAsync(later.LinkId, later.Id, default))!.RevokedReason);

        Assert.Equal(sooner.Id, (await store.TrySpendAsync(link, sooner.Holder, Now, NewSpend(), default))!.Id);
        Assert.Equal(PassStatuses.Expired, (await store.GetAsync(expired.LinkId, expired.Id, default))!.Status(Now));
        Assert.Equal(3, (await store.GetAsync(expired.LinkId, expired.Id, default))!.CallsLeft);
    }

    [Fact]
    public async Task A_pass_bounded_by_time_alone_serves_any_number_of_calls_until_it_expires()
    {
        var store = await StoreAsync();
        var pass = NewPass(calls: null, expires: Now.AddMinutes(10));
        await store.AddAsync(pass, default);
        for (var i = 0; i < 5; i++)
        {
            var spend = NewSpend();
            var spent = await store.TrySpendAsync(pass.LinkId, pass.Holder, Now, spend, default);
            Assert.Null(spent!.CallsLeft);
            Assert.False(await store.GiveBackSpendAsync(pass.LinkId, spend, Now, default)); // nothing was taken
        }
        Assert.DoesNotContain(await store.StaleSpendsAsync(Now.AddDays(1), 100, default), s => s.LinkId == pass.LinkId);
        Assert.Null(await store.TrySpendAsync(pass.LinkId, pass.Holder, Now.AddMinutes(10), NewSpend(), default));
    }

    [Fact]
    public async Task A_thousand_parallel_spends_of_a_last_call_have_exactly_one_winner()
    {
        var store = await StoreAsync();
        var pass = NewPass(calls: 1);
        await store.AddAsync(pass, default);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var spends = Enumerable.Range(0, 1000).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await store.TrySpendAsync(pass.LinkId, pass.Holder, Now, NewSpend(), default);
        })).ToList();
        start.SetResult();
        var results = await Task.WhenAll(spends);
        Assert.Single(results, r => r is not null);
        Assert.Equal(0, (await store.GetAsync(pass.LinkId, pass.Id, default))!.CallsLeft);
    }

    [Fact]
    public async Task Passes_are_listed_per_link_and_per_holder_newest_first()
    {
        var store = await StoreAsync();
        var link = "lnk_" + Guid.NewGuid().ToString("N")[..12];
        var holder = "wallet:0x" + Guid.NewGuid().ToString("N") + "00000000";
        var older = NewPass(link, holder, created: Now.AddMinutes(-5));
        var newer = NewPass(link, holder, created: Now);
        var othersOnLink = NewPass(link, "payer:pyr_other");
        var holdersElsewhere = NewPass(null, holder, created: Now.AddMinutes(-10));
        foreach (var p in new[] { older, newer, othersOnLink, holdersElsewhere })
        {
            await store.AddAsync(p, default);
        }
        Assert.Equal(3, (await store.ListForLinkAsync(link, 10, default)).Count);
        Assert.Equal([newer.Id, older.Id], (await store.ListForHolderAsync(holder, link, 10, default)).Select(p => p.Id));
        Assert.Equal([newer.Id, older.Id, holdersElsewhere.Id], (await store.ListForHolderAsync(holder, null, 10, default)).Select(p => p.Id));
        Assert.Single(await store.ListForHolderAsync(holder, null, 1, default));
    }

    [Fact]
    public async Task A_nonce_is_used_once_even_in_parallel_and_swept_after_its_time()
    {
        var store = await StoreAsync();
        var nonce = Guid.NewGuid().ToString("N");
        var uses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => store.UseNonceAsync(nonce, Now.AddMinutes(5), default))));
        Assert.Single(uses, u => u);

        var old = Guid.NewGuid().ToString("N");
        Assert.True(await store.UseNonceAsync(old, Now.AddMinutes(-1), default));
        Assert.True(await store.DeleteExpiredNoncesAsync(Now, 100, default) >= 1);
        Assert.True(await store.UseNonceAsync(old, Now.AddMinutes(5), default));
        Assert.False(await store.UseNonceAsync(nonce, Now.AddMinutes(5), default));
    }

    [Fact]
    public async Task A_card_checkout_is_recorded_once_by_its_session_and_read_back_whole()
    {
        var store = await StoreAsync();
        var session = "cs_test_" + Guid.NewGuid().ToString("N");
        var forNewBuyer = new PassCheckout
        {
            SessionId = session,
            LinkId = "lnk_card",
            OrganisationId = "org_1",
            Offer = new PassOffer(Usd.Parse("5.00"), 10, null),
            PayerId = PassCheckout.NewPayerIdFor(session),
            NewKeyId = PassCheckout.NewKeyIdFor(session),
            NewKeyHash = new string('a', 64),
            CreatedAt = Now,
        };
        var elsewhere = forNewBuyer with { LinkId = "lnk_elsewhere", PayerId = "payer_other" };
        // Concurrent records of one session: one is kept, whole, and the others change nothing.
        var attempts = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => store.AddCheckoutAsync(i % 2 == 0 ? forNewBuyer : elsewhere, default))));
        Assert.Single(attempts, a => a);
        var read = await store.GetCheckoutAsync(session, default);
        Assert.Contains(read, new[] { forNewBuyer, elsewhere });
        Assert.False(await store.AddCheckoutAsync(read == forNewBuyer ? elsewhere : forNewBuyer, default));
        Assert.Equal(read, await store.GetCheckoutAsync(session, default));

        var forExistingPayer = new PassCheckout
        {
            SessionId = "cs_test_" + Guid.NewGuid().ToString("N"),
            LinkId = "lnk_card",
            OrganisationId = "org_1",
            Offer = new PassOffer(Usd.Parse("0.50"), null, 60),
            PayerId = "payer_own",
            CreatedAt = Now,
        };
        Assert.True(await store.AddCheckoutAsync(forExistingPayer, default));
        Assert.Equal(forExistingPayer, await store.GetCheckoutAsync(forExistingPayer.SessionId, default));
        Assert.Null(await store.GetCheckoutAsync("cs_test_never_opened", default));
    }

    [Fact]
    public async Task Card_checkouts_are_listed_by_when_they_were_opened_oldest_first_and_can_be_forgotten()
    {
        var store = await StoreAsync();
        var opened = Enumerable.Range(0, 5).Select(i => new PassCheckout
        {
            SessionId = $"cs_test_{i}_{Guid.NewGuid():N}",
            LinkId = "lnk_card",
            OrganisationId = "org_1",
            Offer = new PassOffer(Usd.Parse("1.00"), 1, null),
            PayerId = "payer_own",
            CreatedAt = Now.AddHours(-i),
        }).ToList();
        foreach (var checkout in opened)
        {
            Assert.True(await store.AddCheckoutAsync(checkout, default));
        }

        // Opened at or after 3 hours ago and before 1 hour ago: 3h and 2h ago, oldest first; then at most one.
        var between = await store.CheckoutsOpenedBetweenAsync(Now.AddHours(-3), Now.AddHours(-1), 10, default);
        Assert.Equal([opened[3].SessionId, opened[2].SessionId], between.Select(c => c.SessionId));
        Assert.Equal(opened[3], between[0]);
        Assert.Equal([opened[4].SessionId], (await store.CheckoutsOpenedBetweenAsync(Now.AddDays(-1), Now, 1, default)).Select(c => c.SessionId));

        Assert.True(await store.DeleteUnpaidCheckoutAsync(opened[3].SessionId, default));
        Assert.False(await store.DeleteUnpaidCheckoutAsync(opened[3].SessionId, default));
        Assert.Null(await store.GetCheckoutAsync(opened[3].SessionId, default));
        Assert.Equal([opened[2].SessionId], (await store.CheckoutsOpenedBetweenAsync(Now.AddHours(-3), Now.AddHours(-1), 10, default)).Select(c => c.SessionId));

        // Paid after a sweep listed it: the sweep's delete leaves it; one forgotten first cannot be marked (nothing is issued).
        Assert.True(await store.MarkCheckoutPaidAsync(opened[2].SessionId, default));
        Assert.True(await store.MarkCheckoutPaidAsync(opened[2].SessionId, default));
        Assert.False(await store.DeleteUnpaidCheckoutAsync(opened[2].SessionId, default));
        Assert.Equal(opened[2], await store.GetCheckoutAsync(opened[2].SessionId, default));
        Assert.False(await store.MarkCheckoutPaidAsync(opened[3].SessionId, default));
    }
}

public sealed class SqlitePassStoreTests : PassStoreContract
{
    protected override Task<IPassStore> StoreAsync() =>
        Task.FromResult<IPassStore>(new SqlitePassStore(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-contract-" + Guid.NewGuid().ToString("N"), "x402.db"))));
}

public sealed class TablePassStoreTests(AzuriteFixture azurite) : PassStoreContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<IPassStore> StoreAsync() => await StoreAsync(azurite.Tables);

    [Fact]
    public async Task A_spend_whose_answer_was_lost_takes_one_call_and_is_given_back_once()
    {
        var lost = new LostBatchAnswer();
        var store = await StoreAsync(azurite.Client(lost));
        var pass = new Pass
        {
            Id = PassIds.For("lnk_lost", "pay_lost"), LinkId = "lnk_lost", OrganisationId = "org_1", Holder = "payer:pyr_1", Price = Usd.Parse("1.50"),
            PaymentRef = "pay_lost", PaidWith = "x402", Calls = 3, CallsLeft = 3, CreatedAt = DateTimeOffset.UnixEpoch,
        };
        Assert.True(await store.AddAsync(pass, default));

        // The spend's transaction lands, then its answer is lost: the client sends it again, which fails against it.
        lost.Arm();
        var spent = await store.TrySpendAsync(pass.LinkId, pass.Holder, DateTimeOffset.UnixEpoch, "spd_lost", default);

        Assert.Equal(1, lost.Dropped);
        Assert.Equal(2, spent!.CallsLeft);
        Assert.Equal(2, (await store.GetAsync(pass.LinkId, pass.Id, default))!.CallsLeft); // one call taken, not two
        Assert.True(await store.GiveBackSpendAsync(pass.LinkId, "spd_lost", DateTimeOffset.UnixEpoch, default));
        Assert.False(await store.GiveBackSpendAsync(pass.LinkId, "spd_lost", DateTimeOffset.UnixEpoch, default));
        Assert.Equal(3, (await store.GetAsync(pass.LinkId, pass.Id, default))!.CallsLeft);
    }

    private static async Task<TablePassStore> StoreAsync(Azure.Data.Tables.TableServiceClient client)
    {
        var store = new TablePassStore(client, AzuriteFixture.UniqueTable("passes"), AzuriteFixture.UniqueTable("siwxnonces"),
            AzuriteFixture.UniqueTable("passcheckouts"));
        await store.InitializeAsync(default);
        return store;
    }

    /// <summary>Once armed, lets the next entity group transaction through, then drops its answer as a reset connection would.</summary>
    private sealed class LostBatchAnswer : Azure.Core.Pipeline.HttpPipelinePolicy
    {
        private int _armed;
        private int _dropped;

        public int Dropped => Volatile.Read(ref _dropped);

        public void Arm() => Volatile.Write(ref _armed, 1);

        public override void Process(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The store sends asynchronously.");

        public override async ValueTask ProcessAsync(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            if (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) && message.Response.Status is >= 200 and < 300
                && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                Interlocked.Increment(ref _dropped);
                throw new IOException("The connection was reset after the request was sent.");
            }
        }
    }
}

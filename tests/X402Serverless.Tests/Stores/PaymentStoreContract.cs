using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IPaymentStore adapter must do: the replay guard and the job state machine.</summary>
public abstract class PaymentStoreContract
{
    internal static readonly DateTimeOffset T0 = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    protected abstract Task<IPaymentStore> StoreAsync();

    /// <summary>A reserved payment as the stores take it; other tests of the settlement loop use it too.</summary>
    internal static PaymentRecord Payment(string org = "org_a", string mode = "deferred", string link = "lnk_1", string payer = "0xpayer") => new()
    {
        Id = "pay_" + Guid.NewGuid().ToString("N"),
        LinkId = link,
        OrganisationId = org,
        Network = "eip155:84532",
        Asset = "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        Payer = payer,
        PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
        Nonce = "0x01",
        Amount = TokenAmount.Parse("10000"),
        X402Version = 2,
        Status = PaymentStatus.Reserved,
        Mode = mode,
        Facilitator = "builtin",
        SettleRequest = """{"x402Version":2}""",
        ValidBefore = T0.AddHours(1).ToUnixTimeSeconds(),
        CreatedAt = T0,
        UpdatedAt = T0,
    };

    [Fact]
    public async Task Content_owed_flips_once_each_way_so_only_one_redemption_wins()
    {
        var store = await StoreAsync();
        var payment = Payment();
        Assert.True(await store.TryReserveAsync(payment, default));
        Assert.False((await store.GetAsync(payment.Id, default))!.ContentOwed);
        Assert.False(await store.TrySetContentOwedAsync(payment.Id, false, default));
        Assert.True(await store.TrySetContentOwedAsync(payment.Id, true, default));
        Assert.False(await store.TrySetContentOwedAsync(payment.Id, true, default));
        Assert.True((await store.GetAsync(payment.Id, default))!.ContentOwed);
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => store.TrySetContentOwedAsync(payment.Id, false, default)));
        Assert.Equal(1, claims.Count(c => c));
        Assert.False((await store.GetAsync(payment.Id, default))!.ContentOwed);
        Assert.False(await store.TrySetContentOwedAsync("pay_missing", true, default));
    }

    [Fact]
    public async Task A_payment_reserved_as_owing_its_content_is_stored_owing_it()
    {
        var store = await StoreAsync();
        var owing = Payment() with { ContentOwed = true };
        Assert.True(await store.TryReserveAsync(owing, default));
        Assert.True((await store.GetAsync(owing.Id, default))!.ContentOwed);
        var deferred = Payment(payer: "0xowing") with { ContentOwed = true };
        Assert.NotNull(await store.TryReserveDeferredAsync(deferred, 4, default));
        Assert.True((await store.GetAsync(deferred.Id, default))!.ContentOwed);
    }

    [Fact]
    public async Task An_authorization_is_reserved_once()
    {
        var store = await StoreAsync();
        var p = Payment();
        Assert.True(await store.TryReserveAsync(p, default));
        Assert.False(await store.TryReserveAsync(p with { Amount = TokenAmount.Parse("1") }, default));
        var read = await store.GetAsync(p.Id, default);
        Assert.Equal(PaymentStatus.Reserved, read!.Status);
        Assert.Equal("10000", read.Amount.ToString());
        Assert.Equal(p.SettleRequest, read.SettleRequest);
        Assert.Equal(p.ValidBefore, read.ValidBefore);
    }

    [Fact]
    public async Task Jobs_move_only_forward_and_a_settled_payment_is_final()
    {
        var store = await StoreAsync();
        var p = Payment();
        await store.TryReserveAsync(p, default);
        Assert.True(await store.AdvanceAsync(p.Id, PaymentStatus.Pending, T0, default));
        Assert.False(await store.AdvanceAsync(p.Id, PaymentStatus.Settling, T0, default)); // only from Reserved
        await store.RecordSubmittedAsync(p.Id, "0xtx", T0, default);
        await store.MarkSettledAsync(p.Id, "0xtx", T0.AddSeconds(5), default);
        await store.MarkFailedAsync(p.Id, "too late", T0.AddSeconds(6), default);
        await store.ReleaseAsync(p.Id, default);
        var read = await store.GetAsync(p.Id, default);
        Assert.Equal(PaymentStatus.Settled, read!.Status);
        Assert.Equal("0xtx", read.Transaction);
    }

    [Fact]
    public async Task Release_frees_only_what_was_never_broadcast()
    {
        var store = await StoreAsync();
        var reserved = Payment();
        var broadcast = Payment();
        await store.TryReserveAsync(reserved, default);
        await store.TryReserveAsync(broadcast, default);
        await store.AdvanceAsync(broadcast.Id, PaymentStatus.Settling, T0, default);
        await store.RecordSubmittedAsync(broadcast.Id, "0xtx", T0, default);
        await store.ReleaseAsync(reserved.Id, default);
        await store.ReleaseAsync(broadcast.Id, default);
        Assert.Null(await store.GetAsync(reserved.Id, default));
        Assert.Equal(PaymentStatus.Settling, (await store.GetAsync(broadcast.Id, default))!.Status);
        Assert.True(await store.TryReserveAsync(reserved, default)); // freed: the same authorization may be used again
    }

    [Fact]
    public async Task A_due_job_is_leased_to_one_claimer_until_its_lease_or_a_retry()
    {
        var store = await StoreAsync();
        var p = Payment();
        await store.TryReserveAsync(p, default);
        await store.AdvanceAsync(p.Id, PaymentStatus.Pending, T0, default);

        var first = await store.ClaimDueAsync(T0.AddSeconds(1), T0.AddMinutes(1), 100, default);
        Assert.Contains(first, j => j.Id == p.Id);
        Assert.DoesNotContain(await store.ClaimDueAsync(T0.AddSeconds(2), T0.AddMinutes(1), 100, default), j => j.Id == p.Id);
        Assert.Contains(await store.ClaimDueAsync(T0.AddMinutes(2), T0.AddMinutes(3), 100, default), j => j.Id == p.Id); // lease ran out

        await store.ScheduleRetryAsync(p.Id, 1, T0.AddMinutes(10), "rpc_unavailable", T0.AddMinutes(2), default);
        Assert.DoesNotContain(await store.ClaimDueAsync(T0.AddMinutes(5), T0.AddMinutes(6), 100, default), j => j.Id == p.Id);
        var retried = await store.ClaimDueAsync(T0.AddMinutes(11), T0.AddMinutes(12), 100, default);
        var job = Assert.Single(retried, j => j.Id == p.Id);
        Assert.Equal(1, job.Attempts);
        Assert.Equal("rpc_unavailable", job.LastError);

        await store.ReleaseLeasesAsync(default);
        Assert.Contains(await store.ClaimDueAsync(T0.AddMinutes(11), T0.AddMinutes(12), 100, default), j => j.Id == p.Id);
    }

    [Fact]
    public async Task Paging_by_cursor_lists_every_payment_once_in_order_even_at_one_instant()
    {
        var store = await StoreAsync();
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        // Seven at one instant between a newer and an older one: a time-only cursor would skip four of them.
        var same = Enumerable.Range(0, 7).Select(_ => Payment(org)).ToList();
        var newer = Payment(org) with { CreatedAt = T0.AddTicks(1) };
        var older = Payment(org) with { CreatedAt = T0.AddTicks(-1) };
        foreach (var p in same.Append(newer).Append(older))
        {
            await store.TryReserveAsync(p, default);
        }
        var expected = new[] { newer.Id }.Concat(same.Select(p => p.Id).Order(StringComparer.Ordinal)).Append(older.Id).ToList();

        var seen = new List<string>();
        PaymentCursor? after = null;
        for (var pages = 0; pages < 10; pages++)
        {
            var page = await store.ListAsync(org, new PaymentQuery(Limit: 3, After: after), default);
            seen.AddRange(page.Select(p => p.Id));
            if (page.Count < 3)
            {
                break;
            }
            after = PaymentCursor.Parse(PaymentCursor.Of(page[^1]).ToString());
        }
        Assert.Equal(expected, seen);

        // Filters still apply after a cursor, and a cursor past the last row finds nothing.
        var failed = same.OrderBy(p => p.Id, StringComparer.Ordinal).First();
        await store.AdvanceAsync(failed.Id, PaymentStatus.Pending, T0, default);
        await store.MarkFailedAsync(failed.Id, "insufficient", T0, default);
        Assert.Empty(await store.ListAsync(org, new PaymentQuery(Status: PaymentStatus.Failed, After: PaymentCursor.Of(failed)), default));
        Assert.Single(await store.ListAsync(org, new PaymentQuery(Status: PaymentStatus.Failed, After: PaymentCursor.Of(newer)), default));
        Assert.Empty(await store.ListAsync(org, new PaymentQuery(After: PaymentCursor.Of(older)), default));
    }

    [Fact]
    public async Task Stale_live_payments_listings_and_counts_are_found()
    {
        var store = await StoreAsync();
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var payer = "0x" + Guid.NewGuid().ToString("N");
        var stale = Payment(org, payer: payer);
        var failed = Payment(org, link: "lnk_2", payer: payer);
        var topUp = Payment(org, link: "topup:payer_1", payer: payer);
        foreach (var p in new[] { stale, failed, topUp })
        {
            await store.TryReserveAsync(p, default);
        }
        await store.AdvanceAsync(failed.Id, PaymentStatus.Pending, T0, default);
        await store.MarkFailedAsync(failed.Id, "insufficient", T0, default);
        await store.AdvanceAsync(topUp.Id, PaymentStatus.Settling, T0, default);
        await store.MarkSettledAsync(topUp.Id, "0xt", T0, default);

        Assert.Contains(await store.FindStaleAsync(T0.AddMinutes(5), 100, default), p => p.Id == stale.Id);
        Assert.DoesNotContain(await store.FindStaleAsync(T0.AddMinutes(-5), 100, default), p => p.Id == stale.Id);
        Assert.Equal(3, (await store.ListAsync(org, new PaymentQuery(), default)).Count);
        Assert.Single(await store.ListAsync(org, new PaymentQuery(Status: PaymentStatus.Failed), default));
        Assert.Single(await store.ListAsync(org, new PaymentQuery(LinkId: "lnk_2"), default));
        Assert.Equal(new PayerHistory(HasSettledHere: true, HasUnpaidDeferred: true, DeferredInFlight: 1), await store.GetPayerHistoryAsync(payer, org, 10, default));
        Assert.Contains(await store.ListByLinkPrefixAsync("topup:", PaymentStatus.Settled, 100, default), p => p.Id == topUp.Id);
    }

    [Fact]
    public async Task A_payers_history_says_where_it_settled_what_it_left_unpaid_and_what_is_in_flight()
    {
        var store = await StoreAsync();
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var otherOrg = "org_" + Guid.NewGuid().ToString("N")[..8];
        var payer = "0x" + Guid.NewGuid().ToString("N");
        Assert.Equal(new PayerHistory(false, false, 0), await store.GetPayerHistoryAsync(payer, org, 10, default));

        // A settled payment counts for the organisation it paid, not for another one.
        var settled = Payment(otherOrg, mode: SettlementModes.Sync, payer: payer);
        await store.TryReserveAsync(settled, default);
        await store.AdvanceAsync(settled.Id, PaymentStatus.Settling, T0, default);
        await store.MarkSettledAsync(settled.Id, "0xt", T0, default);
        Assert.Equal(new PayerHistory(false, false, 0), await store.GetPayerHistoryAsync(payer, org, 10, default));
        Assert.Equal(new PayerHistory(true, false, 0), await store.GetPayerHistoryAsync(payer, otherOrg, 10, default));

        // A failed sync payment says nothing about content-first; a deferred one not settled yet is in flight.
        var failedSync = Payment(org, mode: SettlementModes.Sync, payer: payer);
        var pending = Payment(org, mode: SettlementModes.Deferred, payer: payer);
        await store.TryReserveAsync(failedSync, default);
        await store.MarkFailedAsync(failedSync.Id, "authorization_consumed_elsewhere", T0, default);
        await store.TryReserveAsync(pending, default);
        await store.AdvanceAsync(pending.Id, PaymentStatus.Pending, T0, default);
        Assert.Equal(new PayerHistory(false, false, 1), await store.GetPayerHistoryAsync(payer, org, 10, default));

        // In flight is counted up to the bound asked for, and not at all without a bound.
        var second = Payment(org, mode: SettlementModes.Deferred, payer: payer);
        await store.TryReserveAsync(second, default);
        await store.AdvanceAsync(second.Id, PaymentStatus.Pending, T0, default);
        Assert.Equal(new PayerHistory(false, false, 2), await store.GetPayerHistoryAsync(payer, org, 10, default));
        Assert.Equal(new PayerHistory(false, false, 1), await store.GetPayerHistoryAsync(payer, org, 1, default));
        Assert.Equal(new PayerHistory(false, false, 0), await store.GetPayerHistoryAsync(payer, org, PayerHistory.InFlightCountCap, default));
        await store.MarkSettledAsync(second.Id, "0xs", T0, default);

        // It settles: nothing in flight any more.
        await store.MarkSettledAsync(pending.Id, "0xu", T0, default);
        Assert.Equal(new PayerHistory(true, false, 0), await store.GetPayerHistoryAsync(payer, org, 10, default));

        // A deferred payment that expired unpaid marks the wallet everywhere, like one that failed.
        var expired = Payment(org, mode: SettlementModes.Deferred, payer: payer);
        await store.TryReserveAsync(expired, default);
        await store.AdvanceAsync(expired.Id, PaymentStatus.Pending, T0, default);
        await store.MarkExpiredAsync(expired.Id, T0, default);
        Assert.Equal(new PayerHistory(true, true, 0), await store.GetPayerHistoryAsync(payer, org, 10, default));
        Assert.Equal(new PayerHistory(true, true, 0), await store.GetPayerHistoryAsync(payer, otherOrg, 10, default));
        Assert.Equal(new PayerHistory(false, false, 0), await store.GetPayerHistoryAsync("0x" + Guid.NewGuid().ToString("N"), org, 10, default));
    }

    [Fact]
    public async Task Parallel_deferred_reservations_of_one_payer_stop_at_the_bound_and_the_rest_are_reserved_sync()
    {
        var store = await StoreAsync();
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var payer = "0x" + Guid.NewGuid().ToString("N");
        var other = "0x" + Guid.NewGuid().ToString("N");
        var payments = Enumerable.Range(0, 50).Select(_ => Payment(org, mode: SettlementModes.Deferred, payer: payer)).ToList();

        // All at once, as 50 parallel requests of one wallet each signing a fresh authorization: every one of them
        // would have read a count under the bound; the count and the insert are one step, so only 3 pass it.
        var modes = await Task.WhenAll(payments.Select(p => Task.Run(() => store.TryReserveDeferredAsync(p, 3, default))));

        Assert.Equal(3, modes.Count(m => m == SettlementModes.Deferred));
        Assert.Equal(47, modes.Count(m => m == SettlementModes.Sync));
        for (var i = 0; i < payments.Count; i++)
        {
            var stored = await store.GetAsync(payments[i].Id, default);
            Assert.Equal(PaymentStatus.Reserved, stored!.Status);
            Assert.Equal(modes[i], stored.Mode);
        }
        Assert.Equal(3, (await store.GetPayerHistoryAsync(payer, org, 10, default)).DeferredInFlight);
        // Another wallet has a bound of its own; the same authorization again is no reservation at all.
        Assert.Equal(SettlementModes.Deferred, await store.TryReserveDeferredAsync(Payment(org, payer: other), 3, default));
        Assert.Null(await store.TryReserveDeferredAsync(payments[0], 3, default));
        Assert.Null(await store.TryReserveDeferredAsync(payments[^1], 3, default));
        Assert.Equal(modes[0], (await store.GetAsync(payments[0].Id, default))!.Mode);

        // One settles, one is released (nothing charged): each frees its place, and the bound holds again after.
        var deferred = payments.Where((_, i) => modes[i] == SettlementModes.Deferred).ToList();
        await store.AdvanceAsync(deferred[0].Id, PaymentStatus.Pending, T0, default);
        await store.MarkSettledAsync(deferred[0].Id, "0xt", T0, default);
        await store.ReleaseAsync(deferred[1].Id, default);
        var next = Enumerable.Range(0, 6).Select(_ => Payment(org, payer: payer)).ToList();
        var nextModes = await Task.WhenAll(next.Select(p => Task.Run(() => store.TryReserveDeferredAsync(p, 3, default))));
        Assert.Equal(2, nextModes.Count(m => m == SettlementModes.Deferred));
        Assert.Equal(4, nextModes.Count(m => m == SettlementModes.Sync));

        // A failed (or expired) one is over too.
        await store.MarkFailedAsync(deferred[2].Id, "insufficient", T0, default);
        Assert.Equal(SettlementModes.Deferred, await store.TryReserveDeferredAsync(Payment(org, payer: payer), 3, default));
        Assert.Equal(SettlementModes.Sync, await store.TryReserveDeferredAsync(Payment(org, payer: payer), 3, default));
    }

    [Fact]
    public async Task Totals_count_and_sum_exactly_per_link_network_and_status_for_one_organisation()
    {
        var store = await StoreAsync();
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var huge = "123456789012345678901234567890"; // beyond a long: sums are exact integers
        var settledA1 = Payment(org, link: "lnk_a") with { Amount = TokenAmount.Parse("10000") };
        var settledA2 = Payment(org, link: "lnk_a") with { Amount = TokenAmount.Parse(huge) };
        var pendingA = Payment(org, link: "lnk_a") with { Amount = TokenAmount.Parse("5") };
        var failedB = Payment(org, link: "lnk_b") with { Amount = TokenAmount.Parse("7") };
        var otherOrg = Payment("org_other_" + Guid.NewGuid().ToString("N")[..8], link: "lnk_a");
        foreach (var p in new[] { settledA1, settledA2, pendingA, failedB, otherOrg })
        {
            await store.TryReserveAsync(p, default);
        }
        foreach (var p in new[] { settledA1, settledA2 })
        {
            await store.AdvanceAsync(p.Id, PaymentStatus.Settling, T0, default);
            await store.MarkSettledAsync(p.Id, "0xtx", T0, default);
        }
        await store.AdvanceAsync(pendingA.Id, PaymentStatus.Pending, T0, default);
        await store.MarkFailedAsync(failedB.Id, "insufficient", T0, default);

        var totals = await store.TotalsByLinkAsync(org, default);

        Assert.Equal(3, totals.Count);
        var settled = Assert.Single(totals, t => t.LinkId == "lnk_a" && t.Status == PaymentStatus.Settled);
        Assert.Equal(2, settled.Count);
        Assert.Equal(System.Numerics.BigInteger.Parse(huge, System.Globalization.CultureInfo.InvariantCulture) + 10000, settled.Amount.Units);
        Assert.Equal("eip155:84532", settled.Network);
        Assert.Equal(5, Assert.Single(totals, t => t.LinkId == "lnk_a" && t.Status == PaymentStatus.Pending).Amount.Units);
        Assert.Equal(1, Assert.Single(totals, t => t.LinkId == "lnk_b").Count);
        Assert.Empty(await store.TotalsByLinkAsync("org_nobody", default));
    }
}

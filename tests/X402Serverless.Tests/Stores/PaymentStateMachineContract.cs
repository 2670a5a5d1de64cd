using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Stores;

/// <summary>
/// The state machine as the stores perform it: every operation tried from every status, on every adapter, moves the
/// payment exactly when Core's transition table says it may, and leaves it untouched otherwise.
/// </summary>
public abstract class PaymentStateMachineContract
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    protected abstract Task<IPaymentStore> StoreAsync();

    public static TheoryData<string, PaymentStatus> EveryOperationFromEveryStatus()
    {
        var data = new TheoryData<string, PaymentStatus>();
        foreach (var transition in PaymentTransitions.All)
        {
            foreach (var status in Enum.GetValues<PaymentStatus>())
            {
                data.Add(transition.Name, status);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryOperationFromEveryStatus))]
    public async Task An_operation_moves_a_payment_exactly_when_the_transition_table_allows_it(string operation, PaymentStatus from)
    {
        var store = await StoreAsync();
        var transition = PaymentTransitions.All.Single(t => t.Name == operation);
        var id = await PaymentAtAsync(store, from);

        var after = await ApplyAsync(store, transition, id);

        if (!transition.StartsFrom(from))
        {
            Assert.NotNull(after);
            Assert.Equal(from, after.Status);
            Assert.NotEqual("0xrecorded", after.Transaction);
            return;
        }
        if (transition == PaymentTransitions.Release)
        {
            Assert.Null(after); // the authorization is free again
            return;
        }
        Assert.NotNull(after);
        // Advance is applied towards a job (Pending); every other operation has one destination, or keeps the status.
        var expected = transition == PaymentTransitions.Advance ? PaymentStatus.Pending : transition.To.Count == 0 ? from : transition.To.Single();
        Assert.Equal(expected, after.Status);
        if (transition == PaymentTransitions.RecordSubmitted)
        {
            Assert.Equal("0xrecorded", after.Transaction);
        }
    }

    [Fact]
    public async Task A_settling_payment_whose_transaction_was_broadcast_is_never_released()
    {
        var store = await StoreAsync();
        var id = await PaymentAtAsync(store, PaymentStatus.Settling);
        await store.RecordSubmittedAsync(id, "0xbroadcast", T0, default);

        await store.ReleaseAsync(id, default);

        Assert.Equal(PaymentStatus.Settling, (await store.GetAsync(id, default))?.Status);
    }

    [Fact]
    public async Task Advancing_anywhere_but_to_a_job_or_an_inline_settlement_is_a_bug_refused_at_once()
    {
        var store = await StoreAsync();
        var id = await PaymentAtAsync(store, PaymentStatus.Reserved);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.AdvanceAsync(id, PaymentStatus.Settled, T0, default));

        Assert.Equal(PaymentStatus.Reserved, (await store.GetAsync(id, default))?.Status);
    }

    private static async Task<PaymentRecord?> ApplyAsync(IPaymentStore store, PaymentTransition transition, string id)
    {
        if (transition == PaymentTransitions.Advance)
        {
            await store.AdvanceAsync(id, PaymentStatus.Pending, T0, default);
        }
        else if (transition == PaymentTransitions.Retry)
        {
            await store.ScheduleRetryAsync(id, 1, T0.AddSeconds(5), "rpc_unavailable", T0, default);
        }
        else if (transition == PaymentTransitions.RecordSubmitted)
        {
            await store.RecordSubmittedAsync(id, "0xrecorded", T0, default);
        }
        else if (transition == PaymentTransitions.Settle)
        {
            await store.MarkSettledAsync(id, "0xsettled", T0, default);
        }
        else if (transition == PaymentTransitions.Fail)
        {
            await store.MarkFailedAsync(id, "authorization_consumed_elsewhere", T0, default);
        }
        else if (transition == PaymentTransitions.Expire)
        {
            await store.MarkExpiredAsync(id, T0, default);
        }
        else
        {
            Assert.Same(PaymentTransitions.Release, transition);
            await store.ReleaseAsync(id, default);
        }
        return await store.GetAsync(id, default);
    }

    /// <summary>A fresh payment brought to <paramref name="status"/> along the table's own paths.</summary>
    private static async Task<string> PaymentAtAsync(IPaymentStore store, PaymentStatus status)
    {
        var payment = new PaymentRecord
        {
            Id = "pay_" + Guid.NewGuid().ToString("N"), LinkId = "lnk_sm", OrganisationId = "org_sm", Network = "eip155:84532",
            Asset = "0x5FbDB2315678afecb367f032d93F642f64180aa3", Payer = "0xpayer", PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            Nonce = "0x01", Amount = TokenAmount.Parse("10000"), X402Version = 2, Status = PaymentStatus.Reserved, SettleRequest = """{"x402Version":2}""",
            ValidBefore = T0.AddHours(1).ToUnixTimeSeconds(), CreatedAt = T0, UpdatedAt = T0,
        };
        Assert.True(await store.TryReserveAsync(payment, default));
        switch (status)
        {
            case PaymentStatus.Pending or PaymentStatus.Expired:
                Assert.True(await store.AdvanceAsync(payment.Id, PaymentStatus.Pending, T0, default));
                break;
            case PaymentStatus.Settling or PaymentStatus.Settled:
                Assert.True(await store.AdvanceAsync(payment.Id, PaymentStatus.Settling, T0, default));
                break;
        }
        switch (status)
        {
            case PaymentStatus.Settled:
                await store.MarkSettledAsync(payment.Id, "0xfirst", T0, default);
                break;
            case PaymentStatus.Failed:
                await store.MarkFailedAsync(payment.Id, "insufficient", T0, default);
                break;
            case PaymentStatus.Expired:
                await store.MarkExpiredAsync(payment.Id, T0, default);
                break;
        }
        Assert.Equal(status, (await store.GetAsync(payment.Id, default))?.Status);
        return payment.Id;
    }
}

using X402Serverless.Core.Payments;

namespace X402Serverless.Tests.Payments;

/// <summary>The transition table's own laws, over every pair of statuses.</summary>
public sealed class PaymentTransitionsTests
{
    public static TheoryData<PaymentStatus, PaymentStatus> EveryPair()
    {
        var data = new TheoryData<PaymentStatus, PaymentStatus>();
        foreach (var from in Enum.GetValues<PaymentStatus>())
        {
            foreach (var to in Enum.GetValues<PaymentStatus>())
            {
                data.Add(from, to);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void An_ended_payment_never_moves_and_nothing_returns_to_reserved(PaymentStatus from, PaymentStatus to)
    {
        if (PaymentTransitions.Final.Contains(from) || to == PaymentStatus.Reserved)
        {
            Assert.False(PaymentTransitions.Allows(from, to));
        }
        if (PaymentTransitions.Allows(from, to))
        {
            Assert.Contains(from, (IReadOnlySet<PaymentStatus>)PaymentTransitions.Live);
        }
    }

    [Fact]
    public void Every_status_is_live_or_final_and_only_in_flight_payments_may_be_released()
    {
        Assert.Equal(Enum.GetValues<PaymentStatus>().Order(), PaymentTransitions.Live.Union(PaymentTransitions.Final).Order());
        Assert.Empty(PaymentTransitions.Live.Intersect(PaymentTransitions.Final));
        Assert.Equal(PaymentTransitions.InFlight.Order(), PaymentTransitions.Release.From.Order());
        Assert.DoesNotContain(PaymentStatus.Pending, (IReadOnlySet<PaymentStatus>)PaymentTransitions.Release.From); // a job may have been broadcast by a worker
        Assert.All(PaymentTransitions.All, t => Assert.Subset(PaymentTransitions.Live.ToHashSet(), t.From.ToHashSet()));
    }

    [Fact]
    public void A_settled_payment_can_only_have_come_from_a_live_one()
    {
        Assert.True(PaymentTransitions.Allows(PaymentStatus.Settling, PaymentStatus.Settled));
        Assert.True(PaymentTransitions.Allows(PaymentStatus.Pending, PaymentStatus.Settled));
        Assert.True(PaymentTransitions.Allows(PaymentStatus.Reserved, PaymentStatus.Settled)); // recovery of a request that died
        Assert.False(PaymentTransitions.Allows(PaymentStatus.Failed, PaymentStatus.Settled));
        Assert.False(PaymentTransitions.Allows(PaymentStatus.Expired, PaymentStatus.Settled));
    }
}

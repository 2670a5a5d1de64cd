using System.Collections.Frozen;

namespace X402Serverless.Core.Payments;

/// <summary>
/// The payment state machine, written once: which statuses each store operation may start from and where it leads.
/// Stores only perform "move from one of these to that, if still so" as one conditional write; a payment that has
/// ended (settled, failed, expired) never moves again.
/// </summary>
public static class PaymentTransitions
{
    /// <summary>A request holds the payment: verified and reserved, or settling inline. Recovered if its process died.</summary>
    public static readonly FrozenSet<PaymentStatus> InFlight = [PaymentStatus.Reserved, PaymentStatus.Settling];

    /// <summary>Not ended yet: the money may still move.</summary>
    public static readonly FrozenSet<PaymentStatus> Live = [PaymentStatus.Reserved, PaymentStatus.Pending, PaymentStatus.Settling];

    /// <summary>Ended for good.</summary>
    public static readonly FrozenSet<PaymentStatus> Final = [PaymentStatus.Settled, PaymentStatus.Failed, PaymentStatus.Expired];

    /// <summary>Reserved → Pending (a job) or Settling (settled inline by its request).</summary>
    public static readonly PaymentTransition Advance = new("advance", [PaymentStatus.Reserved], [PaymentStatus.Pending, PaymentStatus.Settling]);

    /// <summary>A job not settled yet for a passing reason becomes (or stays) Pending with its next attempt.</summary>
    public static readonly PaymentTransition Retry = new("retry", [PaymentStatus.Pending, PaymentStatus.Settling], [PaymentStatus.Pending]);

    /// <summary>A broadcast transaction is recorded while its payment settles.</summary>
    public static readonly PaymentTransition RecordSubmitted = new("record-submitted", [PaymentStatus.Pending, PaymentStatus.Settling], []);

    public static readonly PaymentTransition Settle = new("settle", Live, [PaymentStatus.Settled]);

    public static readonly PaymentTransition Fail = new("fail", Live, [PaymentStatus.Failed]);

    public static readonly PaymentTransition Expire = new("expire", Live, [PaymentStatus.Expired]);

    /// <summary>
    /// The row is deleted, freeing the authorization: only while nothing can have moved money (Reserved, or Settling
    /// with no transaction broadcast; the stores check the transaction themselves).
    /// </summary>
    public static readonly PaymentTransition Release = new("release", InFlight, []);

    public static readonly IReadOnlyList<PaymentTransition> All = [Advance, Retry, RecordSubmitted, Settle, Fail, Expire, Release];

    /// <summary>Statuses as a SQL list of quoted names, e.g. ('Pending', 'Settling'), for a conditional write or a query.</summary>
    public static string SqlList(IEnumerable<PaymentStatus> statuses) => "(" + string.Join(", ", statuses.Order().Select(s => $"'{s}'")) + ")";

    /// <summary>Whether <paramref name="to"/> may follow <paramref name="from"/> by any operation.</summary>
    public static bool Allows(PaymentStatus from, PaymentStatus to) => All.Any(t => t.From.Contains(from) && t.To.Contains(to));
}

/// <param name="To">The statuses it may lead to; empty when it keeps the status (or deletes the row).</param>
public sealed record PaymentTransition(string Name, FrozenSet<PaymentStatus> From, FrozenSet<PaymentStatus> To)
{
    public bool StartsFrom(PaymentStatus status) => From.Contains(status);

    /// <summary>Throws when asked to lead somewhere this operation never goes (a caller's bug, not a race).</summary>
    public void EnsureLeadsTo(PaymentStatus target)
    {
        if (!To.Contains(target))
        {
            throw new ArgumentOutOfRangeException(nameof(target), target, $"The {Name} transition leads only to {string.Join(", ", To)}.");
        }
    }

    /// <summary>The starting statuses as a SQL list, for the store's conditional write.</summary>
    public string SqlFromList() => PaymentTransitions.SqlList(From);
}

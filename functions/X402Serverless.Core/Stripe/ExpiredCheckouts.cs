namespace X402Serverless.Core.Stripe;

/// <summary>Forgets the record of a checkout Stripe says expired unpaid (<c>checkout.session.expired</c>).</summary>
public interface IExpiredCheckouts
{
    /// <summary>The outcome to record for the event.</summary>
    Task<string> ForgetAsync(string sessionId, CancellationToken cancellationToken);
}

using Stripe;
using X402Serverless.Core.Webhooks;

namespace X402Serverless.Handler.Stripe;

/// <summary>
/// Checks a Stripe-Signature with Stripe.net's <see cref="EventUtility"/> on our clock and tolerance, telling a
/// stale signature apart from a wrong one (Stripe.net says which only in its message text, so a refused event is
/// checked again with no time limit).
/// </summary>
internal static class StripeWebhookVerifier
{
    /// <summary>
    /// Valid, Stale, Mismatch or Malformed (no header). On Valid, <paramref name="typed"/> is Stripe.net's reading of
    /// the event, or null when its model cannot read it: the event is still accepted, since what is stored and
    /// processed is the exact signed payload, read by the project's own parser (StripeEventProcessor).
    /// </summary>
    /// <remarks>
    /// API versions: <c>throwOnApiVersionMismatch: false</c>, deliberately. The webhook endpoint's API version is
    /// set in Stripe's dashboard and can differ from the version Stripe.net pins; refusing such an event would make
    /// Stripe retry it for days and then disable the endpoint, losing top-ups that were paid. The fields we use (id,
    /// type, and the session's amount_total, currency, payment_status, metadata) are stable across versions, and the
    /// caller logs a mismatch so the endpoint can be moved to the pinned version.
    /// </remarks>
    public static WebhookSignatureResult Verify(string json, string? header, string secret, DateTimeOffset now, long toleranceSeconds, out Event? typed)
    {
        typed = null;
        if (string.IsNullOrWhiteSpace(header))
        {
            return WebhookSignatureResult.Malformed;
        }
        try
        {
            typed = EventUtility.ConstructEvent(json, header, secret, toleranceSeconds, now.ToUnixTimeSeconds(), throwOnApiVersionMismatch: false);
            return WebhookSignatureResult.Valid;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Refused by the signature, the tolerance, a header it cannot parse, or (signature good) its event model.
            if (!Signed(json, header, secret, now, long.MaxValue))
            {
                return WebhookSignatureResult.Mismatch;
            }
            return Signed(json, header, secret, now, toleranceSeconds) ? WebhookSignatureResult.Valid : WebhookSignatureResult.Stale;
        }
    }

    private static bool Signed(string json, string header, string secret, DateTimeOffset now, long toleranceSeconds)
    {
        try
        {
            EventUtility.ValidateSignature(json, header, secret, toleranceSeconds, now.ToUnixTimeSeconds());
            return true;
        }
        catch (Exception e) when (e is StripeException or IndexOutOfRangeException or FormatException or OverflowException or ArgumentException)
        {
            return false;
        }
    }
}

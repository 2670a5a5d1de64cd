using System.Security.Cryptography;

namespace X402Serverless.Handler.Idempotency;

/// <summary>The idempotency key a paywall page puts in its credits form: random, one per rendering, valid as an Idempotency-Key.</summary>
internal static class PaywallFormKey
{
    public static string New() => "pw_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}

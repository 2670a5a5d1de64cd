namespace X402Serverless.Core.Protocol;

public sealed record DecodeResult(DecodedPayment? Payment, string? Reason, string? Message)
{
    public static DecodeResult Ok(DecodedPayment payment) => new(payment, null, null);

    public static DecodeResult Fail(string reason, string message) => new(null, reason, message);
}

using X402Serverless.Core.Charges;

namespace X402Serverless.Handler.Paywall;

/// <summary>How a paid request will pay: an authorized charge, or the answer refusing it (nothing authorized, nothing to release).</summary>
internal sealed record ChargeAuthorization(ICharge? Charge, IResult? Refusal)
{
    public static ChargeAuthorization Of(ICharge charge) => new(charge, null);

    public static ChargeAuthorization Refused(IResult refusal) => new(null, refusal);
}

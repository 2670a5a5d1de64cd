using X402Serverless.Core.Money;

namespace X402Serverless.Core.Links;

/// <summary>A price rule as a provider sends it (<see cref="PriceRule"/>); checked by <see cref="LinkValidator"/>.</summary>
public sealed record PriceRuleDraft
{
    public string? Method { get; init; }

    public string? PathPrefix { get; init; }

    public UsdInput? Price { get; init; }

    public PriceRule ToRule() => new(Method?.ToUpperInvariant(), PathPrefix, Price!.Value.Value);
}

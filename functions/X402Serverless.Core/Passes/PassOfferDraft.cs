using X402Serverless.Core.Links;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Passes;

/// <summary>A link's pass as a provider sends it (<see cref="PassOffer"/>); long so an out-of-range number is reported, not overflowed.</summary>
public sealed record PassOfferDraft
{
    public UsdInput? Price { get; init; }

    public long? Calls { get; init; }

    public long? Minutes { get; init; }

    public PassOffer ToOffer() => new(Price!.Value.Value, (int?)Calls, (int?)Minutes);

    /// <summary>Every problem of the draft, each with a stable code and the field it is about.</summary>
    public IEnumerable<ValidationError> Check()
    {
        if (Price is not { IsPositive: true })
        {
            yield return new("pass.price", "invalid_pass", "pass.price must be a USD decimal string greater than zero, such as \"1.00\".");
        }
        if (Calls is null && Minutes is null)
        {
            yield return new("pass", "invalid_pass", "A pass needs pass.calls, pass.minutes or both: it may not be unlimited forever.");
        }
        if (Calls is not null and not (>= 1 and <= PassOffer.MaxCalls))
        {
            yield return new("pass.calls", "invalid_pass", $"pass.calls is a whole number from 1 to {PassOffer.MaxCalls}.");
        }
        if (Minutes is not null and not (>= 1 and <= PassOffer.MaxMinutes))
        {
            yield return new("pass.minutes", "invalid_pass", $"pass.minutes is a whole number from 1 to {PassOffer.MaxMinutes} (a year).");
        }
    }
}

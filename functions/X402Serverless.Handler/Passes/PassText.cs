using System.Globalization;
using X402Serverless.Core.Passes;

namespace X402Serverless.Handler.Passes;

/// <summary>A pass offer's bounds in words ("10 calls within 60 minutes"), for pages.</summary>
internal static class PassText
{
    /// <param name="unit">What one use is called: "calls" on an API, "messages" on an inbox.</param>
    public static string Bounds(PassOffer offer, string unit = "calls") => (offer.Calls, offer.Minutes) switch
    {
        ({ } calls, { } minutes) => string.Create(CultureInfo.InvariantCulture, $"{calls} {unit} within {minutes} minutes"),
        ({ } calls, null) => string.Create(CultureInfo.InvariantCulture, $"{calls} {unit}"),
        (null, { } minutes) => string.Create(CultureInfo.InvariantCulture, $"{minutes} minutes of {unit}"),
        _ => "",
    };
}

using System.Globalization;
using X402Serverless.Core.Passes;

namespace X402Serverless.Handler.Passes;

/// <summary>A pass offer's bounds in words ("10 calls within 60 minutes"), for pages.</summary>
internal static class PassText
{
    public static string Bounds(PassOffer offer) => (offer.Calls, offer.Minutes) switch
    {
        ({ } calls, { } minutes) => string.Create(CultureInfo.InvariantCulture, $"{calls} calls within {minutes} minutes"),
        ({ } calls, null) => string.Create(CultureInfo.InvariantCulture, $"{calls} calls"),
        (null, { } minutes) => string.Create(CultureInfo.InvariantCulture, $"{minutes} minutes of calls"),
        _ => "",
    };
}

using System.Globalization;

namespace X402Serverless.Core.Credits;

/// <summary>UTC calendar periods that caps and allowances count in.</summary>
public static class Periods
{
    public static string Month(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The start of the UTC hour after <paramref name="at"/> (the allowance timer's next run).</summary>
    public static DateTimeOffset NextHourStart(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
    }
}

namespace X402Serverless.Handler.ProviderConsole.Charts;

/// <summary>One line of a daily chart: its name (legend and table header), a value per day, and its colour.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<long> Values, string Colour);

/// <summary>The colours of the chart lines, told apart by shape (dash) too for readers who cannot tell the colours apart.</summary>
internal static class ChartColours
{
    public const string Blue = "#2456d6";
    public const string Green = "#1e7b34";
    public const string Red = "#b3261e";
    public const string Amber = "#a15c00";
    public const string Grey = "#5b6475";
}

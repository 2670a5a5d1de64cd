using System.Globalization;

namespace X402Serverless.Handler.ProviderConsole.Charts;

/// <summary>
/// The geometry of a server-rendered daily line chart: a "nice" top for the value axis (1, 2 or 5 times a power of
/// ten, so the gridlines read as round numbers) and each point's place in the SVG's own coordinates. Hand-written:
/// a few lines of arithmetic, no chart library needed for lines on a grid (see docs/dependencies.md).
/// </summary>
internal sealed class ChartScale
{
    public const int Width = 720;
    public const int Height = 240;
    public const int Left = 64;
    public const int Right = 16;
    public const int Top = 16;
    public const int Bottom = 44;
    public const int Ticks = 4;

    private readonly int _points;

    public ChartScale(long max, int points)
    {
        Max = NiceTop(max);
        _points = Math.Max(points, 1);
    }

    /// <summary>The value at the top of the axis (at least 1, so an empty chart still has an axis).</summary>
    public long Max { get; }

    public static double PlotWidth => Width - Left - Right;

    public static double PlotHeight => Height - Top - Bottom;

    public double X(int index) => Left + (_points == 1 ? PlotWidth / 2 : PlotWidth * index / (_points - 1));

    public double Y(long value) => Top + PlotHeight - PlotHeight * value / Max;

    /// <summary>The value of gridline <paramref name="tick"/> (0 at the bottom, <see cref="Ticks"/> at the top).</summary>
    public long TickValue(int tick) => Max * tick / Ticks;

    public static string N(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    public string Points(IReadOnlyList<long> values) =>
        string.Join(' ', values.Select((v, i) => N(X(i)) + "," + N(Y(v))));

    // The smallest 1, 2 or 5 × 10^k that is at least max and divides into Ticks whole steps when it can.
    private static long NiceTop(long max)
    {
        if (max <= Ticks)
        {
            return Ticks;
        }
        for (long magnitude = 1; ; magnitude *= 10)
        {
            foreach (var step in new long[] { 1, 2, 5 })
            {
                var top = step * magnitude * Ticks;
                if (top >= max)
                {
                    return top;
                }
            }
            if (magnitude > long.MaxValue / 100)
            {
                return max;
            }
        }
    }
}

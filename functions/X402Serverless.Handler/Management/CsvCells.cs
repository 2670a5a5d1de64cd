namespace X402Serverless.Handler.Management;

/// <summary>One CSV (RFC 4180) cell, with formulas defused: every download (usage, payments, postings, audit) writes cells here.</summary>
internal static class CsvCells
{
    /// <summary>
    /// Quoted when it holds a separator, quote or line break. A value starting with = + - @ (or a tab or carriage
    /// return, which some spreadsheets skip before reading a formula) gets a leading apostrophe, so a spreadsheet shows
    /// the text instead of running it: names, memos and ids come from callers.
    /// </summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        if ("=+-@\t\r".Contains(value[0], StringComparison.Ordinal))
        {
            value = "'" + value;
        }
        return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    /// <summary>A download's body, written as it is produced (a page at a time) rather than built in memory first.</summary>
    public static IResult Download(string fileName, Func<TextWriter, CancellationToken, Task> write, CancellationToken cancellationToken) =>
        TypedResults.Stream(async stream =>
        {
            await using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 16 * 1024, leaveOpen: true);
            await write(writer, cancellationToken);
            await writer.FlushAsync(cancellationToken);
        }, "text/csv; charset=utf-8", fileName);
}

namespace X402Serverless.Handler.Management;

/// <summary>
/// A StringWriter that refuses to grow past a bound: a writer walking an unbounded structure (a schema whose references
/// fan out) stops at the first write over it instead of running on. The exception is an InvalidOperationException, which
/// the import takes as "left out".
/// </summary>
internal sealed class BoundedStringWriter(int maxChars) : StringWriter(System.Globalization.CultureInfo.InvariantCulture)
{
    public override void Write(char value)
    {
        Check(1);
        base.Write(value);
    }

    public override void Write(string? value)
    {
        Check(value?.Length ?? 0);
        base.Write(value);
    }

    public override void Write(char[] buffer, int index, int count)
    {
        Check(count);
        base.Write(buffer, index, count);
    }

    public override void Write(ReadOnlySpan<char> buffer)
    {
        Check(buffer.Length);
        base.Write(buffer);
    }

    private void Check(int adding)
    {
        if (GetStringBuilder().Length + adding > maxChars)
        {
            throw new InvalidOperationException($"The text is over {maxChars} characters.");
        }
    }
}

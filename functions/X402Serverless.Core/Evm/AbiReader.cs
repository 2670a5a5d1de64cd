namespace X402Serverless.Core.Evm;

/// <summary>
/// Strict reads of ABI-encoded data from outside (a payer's signature wrapper, a contract's answer): every offset and
/// length is checked against the data, so junk gives null, never an exception or a read past the end.
/// </summary>
internal static class AbiReader
{
    /// <summary>The dynamic bytes whose offset is the word at <paramref name="head"/>.</summary>
    public static byte[]? Bytes(ReadOnlySpan<byte> data, int head)
    {
        if (Word(data, head) is not { } offset || Word(data, offset) is not { } length || length > data.Length - offset - 32)
        {
            return null;
        }
        return data.Slice(offset + 32, length).ToArray();
    }

    /// <summary>The 32-byte word at <paramref name="at"/> read as a non-negative int; null when out of range or larger.</summary>
    public static int? Word(ReadOnlySpan<byte> data, int at)
    {
        if (at < 0 || at > data.Length - 32 || data.Slice(at, 28).ContainsAnyExcept((byte)0))
        {
            return null;
        }
        var value = (data[at + 28] << 24) | (data[at + 29] << 16) | (data[at + 30] << 8) | data[at + 31];
        return value < 0 ? null : value;
    }
}

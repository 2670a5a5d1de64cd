namespace X402Serverless.Core.Crypto;

/// <summary>0x-prefixed hex as used on the EVM wire.</summary>
public static class Hex
{
    public static string Encode(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    public static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null || text.Length < 2 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
        {
            return false;
        }
        var body = text.AsSpan(2);
        if (body.Length % 2 != 0)
        {
            return false;
        }
        foreach (var c in body)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        bytes = Convert.FromHexString(body);
        return true;
    }

    public static byte[] Decode(string text) =>
        TryDecode(text, out var bytes) ? bytes : throw new FormatException("Expected 0x-prefixed hex.");
}

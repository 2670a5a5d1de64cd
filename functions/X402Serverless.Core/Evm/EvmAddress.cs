using System.Diagnostics.CodeAnalysis;
using X402Serverless.Core.Crypto;

namespace X402Serverless.Core.Evm;

/// <summary>A 20-byte EVM address. Equality ignores how the text was cased; <see cref="ToString"/> gives EIP-55.</summary>
public readonly struct EvmAddress : IEquatable<EvmAddress>
{
    private readonly byte[]? _bytes;

    public EvmAddress(byte[] bytes)
    {
        if (bytes.Length != 20)
        {
            throw new ArgumentException("An EVM address is 20 bytes.", nameof(bytes));
        }
        _bytes = bytes;
    }

    public ReadOnlySpan<byte> Bytes => _bytes ?? new byte[20];

    public static bool TryParse([NotNullWhen(true)] string? text, out EvmAddress address)
    {
        address = default;
        if (text is null || text.Length != 42 || !Hex.TryDecode(text, out var bytes))
        {
            return false;
        }
        address = new EvmAddress(bytes);
        return true;
    }

    public static EvmAddress Parse(string text) =>
        TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not an EVM address.");

    /// <summary>The EIP-55 mixed-case checksum form.</summary>
    public override string ToString()
    {
        var lower = Convert.ToHexStringLower(Bytes);
        var hash = Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes(lower));
        var chars = new char[42];
        chars[0] = '0';
        chars[1] = 'x';
        for (var i = 0; i < 40; i++)
        {
            var nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0xF;
            chars[i + 2] = nibble >= 8 ? char.ToUpperInvariant(lower[i]) : lower[i];
        }
        return new string(chars);
    }

    public string ToLowerHex() => Hex.Encode(Bytes);

    public bool Equals(EvmAddress other) => Bytes.SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => obj is EvmAddress other && Equals(other);

    public override int GetHashCode() => BitConverter.ToInt32(Bytes[16..]);

    public static bool operator ==(EvmAddress left, EvmAddress right) => left.Equals(right);

    public static bool operator !=(EvmAddress left, EvmAddress right) => !left.Equals(right);
}

using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using X402Serverless.Core.Crypto;

namespace X402Serverless.Tests.Crypto;

/// <summary>
/// What ecrecover refuses besides the high-s twin (see <see cref="Eip712VectorTests"/>): out-of-range r and s, and bad keys;
/// and that the native library and the managed port agree, for recovery and for signing.
/// </summary>
public sealed class Secp256k1Tests
{
    private static readonly BigInteger N = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static readonly byte[] Digest = SHA256.HashData("x402"u8);

    private static readonly byte[] Key = Hex.Decode("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");

    [Fact]
    public void A_signature_recovers_to_its_signer_with_v_27_28_or_0_1()
    {
        var signature = Secp256k1.Sign(Digest, Key);
        Assert.Contains(signature[64], new byte[] { 27, 28 });
        Assert.Equal(Secp256k1.AddressOf(Key), Secp256k1.Recover(Digest, signature));
        signature[64] -= 27;
        Assert.Equal(Secp256k1.AddressOf(Key), Secp256k1.Recover(Digest, signature));
    }

    [Fact]
    public void Signatures_are_low_s()
    {
        for (var i = 0; i < 16; i++)
        {
            var signature = Secp256k1.Sign(SHA256.HashData([(byte)i]), Key);
            Assert.True(new BigInteger(signature.AsSpan(32, 32), isUnsigned: true, isBigEndian: true) <= N / 2);
        }
    }

    [Theory]
    [InlineData("r", "0")]
    [InlineData("s", "0")]
    [InlineData("r", "n")]
    [InlineData("s", "n")]
    [InlineData("r", "n+1")]
    public void Out_of_range_r_or_s_is_refused(string part, string value)
    {
        var signature = Secp256k1.Sign(Digest, Key);
        var number = value switch { "0" => BigInteger.Zero, "n" => N, _ => N + 1 };
        var word = new byte[32];
        var raw = number.ToByteArray(isUnsigned: true, isBigEndian: true);
        raw.CopyTo(word.AsSpan(32 - raw.Length));
        word.CopyTo(signature.AsSpan(part == "r" ? 0 : 32));
        Assert.Null(Secp256k1.Recover(Digest, signature));
    }

    [Fact]
    public void Wrong_lengths_are_refused()
    {
        var signature = Secp256k1.Sign(Digest, Key);
        Assert.Null(Secp256k1.Recover(Digest.AsSpan(0, 31), signature));
        Assert.Null(Secp256k1.Recover(Digest, signature.AsSpan(0, 64)));
    }

    [Theory]
    [InlineData("0x0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")]
    [InlineData("0x01")]
    public void Keys_outside_the_curve_order_are_refused(string key) =>
        Assert.Throws<ArgumentException>(() => Secp256k1.AddressOf(Hex.Decode(key)));

    [Fact]
    public void The_native_recovery_loads_here_so_payments_do_not_fall_back_to_the_managed_port_unnoticed() =>
        Assert.True(NativeSecp256k1.Available);

    [Fact]
    public void Native_and_managed_recovery_give_the_same_answer_for_valid_and_tampered_signatures()
    {
        var recovered = 0;
        for (var i = 0; i < 64; i++)
        {
            var key = RandomNumberGenerator.GetBytes(32);
            var digest = SHA256.HashData(BitConverter.GetBytes(i));
            var signature = Secp256k1.Sign(digest, key);
            Assert.Equal(Secp256k1.AddressOf(key), Secp256k1.Recover(digest, signature, native: true));
            Assert.Equal(Secp256k1.AddressOf(key), Secp256k1.Recover(digest, signature, native: false));
            // A tampered r: often no curve point has that x (both refuse), otherwise both find the same wrong signer.
            signature[1 + (i % 30)] ^= (byte)(1 << (i % 8));
            var native = Secp256k1.Recover(digest, signature, native: true);
            Assert.Equal(Secp256k1.Recover(digest, signature, native: false), native);
            Assert.NotEqual(Secp256k1.AddressOf(key), native);
            recovered += native is null ? 0 : 1;
        }
        Assert.InRange(recovered, 1, 63);
    }

    [Fact]
    public void Native_and_managed_signing_give_the_same_bytes()
    {
        // Both are RFC 6979 with low-s: a settlement signed natively is byte for byte the one the port would sign, so a
        // rebroadcast after a restart (either code) carries the same transaction hash.
        for (var i = 0; i < 64; i++)
        {
            var key = RandomNumberGenerator.GetBytes(32);
            var digest = SHA256.HashData(BitConverter.GetBytes(i));
            var native = Secp256k1.Sign(digest, key, native: true);
            Assert.Equal(Convert.ToHexString(Secp256k1.Sign(digest, key, native: false)), Convert.ToHexString(native));
            Assert.Equal(Secp256k1.AddressOf(key), Secp256k1.Recover(digest, native, native: false));
        }
    }

    [Fact]
    public void Signing_refuses_a_bad_key_or_digest_either_way()
    {
        foreach (var native in new[] { true, false })
        {
            Assert.Throws<ArgumentException>(() => Secp256k1.Sign(Digest, new byte[32], native));
            Assert.Throws<ArgumentException>(() => Secp256k1.Sign(Digest, N.ToByteArray(isUnsigned: true, isBigEndian: true), native));
            Assert.Throws<ArgumentException>(() => Secp256k1.Sign(Digest.AsSpan(0, 31), Key, native));
        }
    }

    [Fact]
    public void Recovery_on_many_threads_at_once_gives_each_signer()
    {
        var keys = Enumerable.Range(0, 8).Select(_ => RandomNumberGenerator.GetBytes(32)).ToArray();
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var key = keys[i % keys.Length];
            var digest = SHA256.HashData(BitConverter.GetBytes(i));
            Assert.Equal(Secp256k1.AddressOf(key), Secp256k1.Recover(digest, Secp256k1.Sign(digest, key)));
        });
    }
}

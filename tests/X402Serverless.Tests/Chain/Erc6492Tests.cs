using System.Text.Json;
using Nethereum.ABI;
using X402Serverless.Core.Evm;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Chain;

/// <summary>EIP-6492 wrappers read strictly (junk is null, never an exception), and the probe's bytecode is its source's.</summary>
public sealed class Erc6492Tests
{
    private static readonly byte[] Magic = Convert.FromHexString("6492649264926492649264926492649264926492649264926492649264926492");

    private static readonly EvmAddress Factory = EvmAddress.Parse("0x1111111111111111111111111111111111111111");

    internal static byte[] Wrap(EvmAddress factory, byte[] calldata, byte[] inner) =>
        [.. new ABIEncode().GetABIEncoded(new ABIValue("address", factory.ToLowerHex()), new ABIValue("bytes", calldata), new ABIValue("bytes", inner)), .. Magic];

    [Fact]
    public void A_wrapped_signature_gives_its_factory_call_and_inner_signature()
    {
        var calldata = new byte[] { 1, 2, 3, 4, 5 };
        var inner = Enumerable.Range(0, 65).Select(i => (byte)i).ToArray();

        var unwrapped = Erc6492.Unwrap(Wrap(Factory, calldata, inner));

        Assert.NotNull(unwrapped);
        Assert.Equal(Factory, unwrapped.Factory);
        Assert.Equal(calldata, unwrapped.FactoryCalldata);
        Assert.Equal(inner, unwrapped.Inner);
    }

    [Fact]
    public void Junk_with_the_suffix_or_without_it_is_not_a_wrapper()
    {
        var good = Wrap(Factory, [1, 2, 3], new byte[65]);
        Assert.Null(Erc6492.Unwrap(good.AsSpan(0, good.Length - 1))); // suffix cut
        Assert.Null(Erc6492.Unwrap(new byte[65]));                // a plain signature
        Assert.Null(Erc6492.Unwrap(Magic));                       // the suffix alone
        Assert.Null(Erc6492.Unwrap([.. new byte[64], .. Magic])); // too short for the three heads

        var dirtyAddress = (byte[])good.Clone();
        dirtyAddress[0] = 1;
        Assert.Null(Erc6492.Unwrap(dirtyAddress));

        var offsetPastEnd = (byte[])good.Clone();
        offsetPastEnd[62] = 0x01; // 0x1ff: past the wrapper's end
        Assert.Null(Erc6492.Unwrap(offsetPastEnd));

        var hugeOffset = (byte[])good.Clone();
        hugeOffset[40] = 0xff;
        Assert.Null(Erc6492.Unwrap(hugeOffset));

        var lengthPastEnd = (byte[])good.Clone();
        lengthPastEnd[96 + 31] = 0xff; // the calldata's length word
        Assert.Null(Erc6492.Unwrap(lengthPastEnd));

        var negative = (byte[])good.Clone();
        negative[96 + 28] = 0x80; // a length that is negative as an int
        Assert.Null(Erc6492.Unwrap(negative));
    }

    [Fact]
    public void The_probe_answer_is_read_strictly()
    {
        var encode = new ABIEncode();
        Assert.Equal((Erc6492Outcome.Paid, (string?)null),
            Erc6492Probe.Read(encode.GetABIEncoded(new ABIValue("uint256", 0), new ABIValue("bytes", Array.Empty<byte>()))));
        byte[] revert = [0x08, 0xc3, 0x79, 0xa0, .. encode.GetABIEncoded(new ABIValue("string", "FiatTokenV2: invalid signature"))];
        Assert.Equal((Erc6492Outcome.TransferReverted, "FiatTokenV2: invalid signature"),
            Erc6492Probe.Read(encode.GetABIEncoded(new ABIValue("uint256", 3), new ABIValue("bytes", revert))));
        Assert.Equal(Erc6492Outcome.Unreadable, Erc6492Probe.Read([]).Outcome);
        Assert.Equal(Erc6492Outcome.Unreadable,
            Erc6492Probe.Read(encode.GetABIEncoded(new ABIValue("uint256", 9), new ABIValue("bytes", Array.Empty<byte>()))).Outcome);
    }

    [Fact]
    public void The_probes_bytecode_is_what_its_source_compiles_to()
    {
        var built = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Peers, "build", "Erc6492Probe.json")));
        var compiled = built.RootElement.GetProperty("bytecode").GetString()![2..];
        Assert.True(string.Equals(compiled, Erc6492Probe.CreationCode, StringComparison.OrdinalIgnoreCase),
            "Erc6492Probe.cs's CreationCode is not what Erc6492Probe.sol compiles to: copy build/Erc6492Probe.json's bytecode into it.");
    }
}

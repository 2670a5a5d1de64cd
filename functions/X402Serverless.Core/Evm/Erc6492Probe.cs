using System.Numerics;
using System.Text;
using Nethereum.ABI;

namespace X402Serverless.Core.Evm;

/// <summary>
/// The deployless simulation of a counterfactual wallet's payment (source: Erc6492Probe.sol beside this file): one
/// eth_call without a recipient runs the wallet's factory call, then the token's transferWithAuthorization with the
/// inner signature, and answers how it went. Nothing is deployed or sent; no contract needs to exist on the chain.
/// </summary>
public static class Erc6492Probe
{
    /// <summary>solc 0.8.37, optimizer 200 runs, evmVersion cancun (tests/peers/compile.mjs); a test checks it matches the source.</summary>
    public const string CreationCode =
        "608060405234801561000f575f5ffd5b506040516102f83803806102f883398101604081905261002e91610208565b5f60605f876001600160a01b0316848860405161004b91906102a5565b5f604051808303815f8787f1925050503d805f8114610085576040519150601f19603f3d011682016040523d82523d5f602084013e61008a565b606091505b505090508061009c5760019250610123565b886001600160a01b03163b5f036100b65760029250610123565b5f5f876001600160a01b0316876040516100d091906102a5565b5f604051808303815f865af19150503d805f8114610109576040519150601f19603f3d011682016040523d82523d5f602084013e61010e565b606091505b50915091508161012057600394508093505b50505b5f83836040516020016101379291906102bb565b6040516020818303038152906040529050805160208201f35b80516001600160a01b0381168114610166575f5ffd5b919050565b634e487b7160e01b5f52604160045260245ffd5b5f82601f83011261018e575f5ffd5b81516001600160401b038111156101a7576101a761016b565b604051601f8201601f19908116603f011681016001600160401b03811182821017156101d5576101d561016b565b6040528181528382016020018510156101ec575f5ffd5b8160208501602083015e5f918101602001919091529392505050565b5f5f5f5f5f5f60c0878903121561021d575f5ffd5b61022687610150565b955061023460208801610150565b60408801519095506001600160401b0381111561024f575f5ffd5b61025b89828a0161017f565b94505061026a60608801610150565b60808801519093506001600160401b03811115610285575f5ffd5b61029189828a0161017f565b92505060a087015190509295509295509295565b5f82518060208501845e5f920191825250919050565b828152604060208201525f82518060408401528060208501606085015e5f606082850101526060601f19601f830116840101915050939250505056fe";

    private static readonly byte[] Code = Convert.FromHexString(CreationCode);

    private static readonly byte[] ErrorSelector = [0x08, 0xc3, 0x79, 0xa0]; // Error(string)

    /// <summary>The call's data: the probe's creation code and its constructor's arguments.</summary>
    public static byte[] Call(EvmAddress wallet, Erc6492Signature signature, EvmAddress token, byte[] transfer, BigInteger deployGas) =>
        [.. Code, .. new ABIEncode().GetABIEncoded(
            new ABIValue("address", wallet.ToLowerHex()),
            new ABIValue("address", signature.Factory.ToLowerHex()),
            new ABIValue("bytes", signature.FactoryCalldata),
            new ABIValue("address", token.ToLowerHex()),
            new ABIValue("bytes", transfer),
            new ABIValue("uint256", deployGas))];

    /// <summary>What the probe answered; <see cref="Erc6492Outcome.Unreadable"/> for anything else.</summary>
    public static (Erc6492Outcome Outcome, string? Revert) Read(ReadOnlySpan<byte> returned)
    {
        if (AbiReader.Word(returned, 0) is not { } outcome || outcome > (int)Erc6492Outcome.TransferReverted || AbiReader.Bytes(returned, 32) is not { } revert)
        {
            return (Erc6492Outcome.Unreadable, null);
        }
        return ((Erc6492Outcome)outcome, outcome == (int)Erc6492Outcome.TransferReverted ? RevertText(revert) : null);
    }

    /// <summary>A revert's reason string (Error(string)), else its data in hex, for the revert-reason mapping.</summary>
    private static string RevertText(byte[] revert) =>
        revert.AsSpan().StartsWith(ErrorSelector) && AbiReader.Bytes(revert.AsSpan(4), 0) is { } text
            ? Encoding.UTF8.GetString(text)
            : Crypto.Hex.Encode(revert);
}

public enum Erc6492Outcome
{
    Paid = 0,
    FactoryReverted = 1,
    WalletNotDeployed = 2,
    TransferReverted = 3,
    Unreadable = 4,
}

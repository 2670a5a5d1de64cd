using System.Text;
using X402Serverless.Core.Crypto;

namespace X402Serverless.Core.Evm;

/// <summary>
/// Call data for Multicall3's <c>aggregate3((address target, bool allowFailure, bytes callData)[])</c>: several calls in
/// one transaction, each allowed to fail on its own. Encoded here word by word (an array of dynamic tuples, which
/// Nethereum's ABIEncode takes only through generated struct classes); its layout is checked against the deployed
/// contract by the batching tests.
/// </summary>
public static class Multicall3Calls
{
    /// <summary>Where Multicall3 is deployed on every public EVM chain (the same deployer and nonce everywhere).</summary>
    public static readonly EvmAddress Canonical = EvmAddress.Parse("0xcA11bde05977b3631167028862bE2a173976CA11");

    private static readonly byte[] Aggregate3Selector = Keccak256.Hash(Encoding.ASCII.GetBytes("aggregate3((address,bool,bytes)[])"))[..4];

    /// <summary>aggregate3 with <c>allowFailure = true</c> for every call: one call's revert leaves the others standing.</summary>
    public static byte[] Aggregate3AllowingFailure(IReadOnlyList<(EvmAddress Target, byte[] CallData)> calls)
    {
        // Head: offset of the array (one word), its length, one offset per tuple (from the start of those offsets);
        // each tuple: target, allowFailure, offset of its bytes within the tuple (3 words), length, data padded to words.
        var tupleSizes = calls.Select(c => 32 * 4 + Padded(c.CallData.Length)).ToArray();
        var size = 4 + 32 + 32 + 32 * calls.Count + tupleSizes.Sum();
        var data = new byte[size];
        Aggregate3Selector.CopyTo(data, 0);
        var at = 4;
        void Word(byte[] word)
        {
            word.CopyTo(data, at);
            at += 32;
        }
        Word(AbiWord.UInt256(32));
        Word(AbiWord.UInt256(calls.Count));
        var offset = 32 * calls.Count;
        foreach (var tupleSize in tupleSizes)
        {
            Word(AbiWord.UInt256(offset));
            offset += tupleSize;
        }
        foreach (var (target, callData) in calls)
        {
            Word(AbiWord.Address(target));
            Word(AbiWord.UInt256(1));
            Word(AbiWord.UInt256(96));
            Word(AbiWord.UInt256(callData.Length));
            callData.CopyTo(data, at);
            at += Padded(callData.Length);
        }
        return data;
    }

    private static int Padded(int length) => (length + 31) / 32 * 32;
}

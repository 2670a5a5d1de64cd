using System.Text;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Payments;

public static class PaymentId
{
    /// <summary>Deterministic id of an authorization: the same (chain, token, payer, nonce) always maps here.</summary>
    public static string For(long chainId, EvmAddress asset, EvmAddress payer, byte[] nonce)
    {
        var hash = Keccak256.Hash(Encoding.ASCII.GetBytes($"{chainId}:{asset.ToLowerHex()}:{payer.ToLowerHex()}:"), nonce);
        return "pay_" + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }
}

using System.Numerics;
using System.Text;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;

namespace X402Serverless.Core.Chain;

/// <summary>
/// Compares a network's configured token domain with the token's own: payers sign over the configured one, so a
/// wrong TokenName or TokenVersion makes every signature fail on chain, found otherwise only after the upstream served.
/// </summary>
public static class TokenDomainCheck
{
    private static readonly byte[] DomainSeparatorCall = Convert.FromHexString("3644e515"); // DOMAIN_SEPARATOR()
    private static readonly byte[] NameCall = Convert.FromHexString("06fdde03"); // name()
    private static readonly byte[] VersionCall = Convert.FromHexString("54fd4d50"); // version()

    /// <summary>Null when the token agrees; otherwise what differs and how to fix it. Throws <see cref="RpcUnavailableException"/>.</summary>
    public static async Task<string?> MismatchAsync(EvmNetwork network, EvmRpcClient rpc, CancellationToken cancellationToken)
    {
        var separator = await TryCallAsync(rpc, network, DomainSeparatorCall, cancellationToken);
        if (separator is { Length: 32 } && separator.AsSpan().SequenceEqual(network.Domain.Separator))
        {
            return null;
        }
        var name = Text(await TryCallAsync(rpc, network, NameCall, cancellationToken));
        var version = Text(await TryCallAsync(rpc, network, VersionCall, cancellationToken));
        if (separator is null && name == network.Domain.Name && version == network.Domain.Version)
        {
            return null; // a token without DOMAIN_SEPARATOR() whose name and version agree
        }
        return $"the token {network.Asset} on {network.Id} signs as \"{name ?? "?"}\" version \"{version ?? "?"}\" (chain {network.ChainId}), " +
            $"but this gateway is configured with \"{network.Domain.Name}\" version \"{network.Domain.Version}\": set the network's TokenName and " +
            "TokenVersion to the token's, or its Asset to the right contract";
    }

    private static async Task<byte[]?> TryCallAsync(EvmRpcClient rpc, EvmNetwork network, byte[] data, CancellationToken cancellationToken)
    {
        try
        {
            var result = await rpc.EthCallAsync(network.Asset, network.Asset, data, cancellationToken);
            return result.Length == 0 ? null : result;
        }
        catch (RpcException)
        {
            return null; // the token has no such function (a revert), not an outage
        }
    }

    // An ABI-encoded string: offset, length, bytes.
    private static string? Text(byte[]? abi)
    {
        if (abi is null || abi.Length < 64)
        {
            return null;
        }
        var length = new BigInteger(abi.AsSpan(32, 32), isUnsigned: true, isBigEndian: true);
        return length > abi.Length - 64 ? null : Encoding.UTF8.GetString(abi, 64, (int)length);
    }
}

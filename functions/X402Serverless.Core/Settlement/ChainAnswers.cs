using X402Serverless.Core.Chain;
using X402Serverless.Core.Networks;

namespace X402Serverless.Core.Settlement;

/// <summary>Asking the chain where no answer is an answer too: the caller treats null as "no verdict yet".</summary>
internal static class ChainAnswers
{
    /// <summary>The chain's answer, or null when the network has no RPC, the node cannot answer now, or (for a named transaction) it is not mined.</summary>
    public static async Task<AuthorizationState?> AskAsync(this AuthorizationLookup chain, EvmNetwork network, Func<Task<AuthorizationState?>> ask)
    {
        if (!chain.CanLookUp(network))
        {
            return null;
        }
        try
        {
            return await ask();
        }
        catch (RpcUnavailableException)
        {
            return null;
        }
    }
}

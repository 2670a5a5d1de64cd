namespace X402Serverless.Core.Settlement;

public enum SettlementOutcomeKind
{
    Settled,
    Failed,
    Expired,

    /// <summary>Not settled yet for a passing reason (RPC or facilitator down, gas wallet empty); the job will run again.</summary>
    Retrying,

    /// <summary>A sync settlement that could not run: nothing was broadcast and the authorization was freed.</summary>
    Released,
}

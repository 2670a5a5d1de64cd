namespace X402Serverless.Core.Kyc;

/// <summary>How much identity a verification proved, ordered: a link asking for "basic" accepts "full".</summary>
public static class KycLevels
{
    public const string None = "none";

    public const string Basic = "basic";

    public const string Full = "full";

    public static readonly IReadOnlyList<string> All = [None, Basic, Full];

    public static bool IsValid(string? level) => level is not null && All.Contains(level);

    public static int Rank(string? level) => level switch
    {
        Basic => 1,
        Full => 2,
        _ => 0,
    };
}

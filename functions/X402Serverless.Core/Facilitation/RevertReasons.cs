using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Facilitation;

/// <summary>Maps token revert messages (USDC's FiatTokenV2 wording, OpenZeppelin errors) to x402 reason strings.</summary>
public static class RevertReasons
{
    private static readonly (string Fragment, string Reason)[] Known =
    [
        ("authorization is used or canceled", ReasonCodes.NonceAlreadyUsed),
        ("authorization is expired", ReasonCodes.ValidBefore),
        ("authorization is not yet valid", ReasonCodes.ValidAfter),
        ("invalid signature", ReasonCodes.Signature),
        ("transfer amount exceeds balance", InsufficientBalance),
        ("0xe450d38c", InsufficientBalance), // ERC20InsufficientBalance(address,uint256)
        ("ERC20InsufficientBalance", InsufficientBalance),
    ];

    public const string InsufficientBalance = "invalid_exact_evm_insufficient_balance";
    public const string SimulationFailed = "invalid_exact_evm_transaction_simulation_failed";

    public static string Map(string? message, string? data)
    {
        var text = $"{message} {data}";
        foreach (var (fragment, reason) in Known)
        {
            if (text.Contains(fragment, StringComparison.OrdinalIgnoreCase))
            {
                return reason;
            }
        }
        return SimulationFailed;
    }
}

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

    // Permit2's and the proxy's custom errors, by selector (keccak256 of the error's signature, first 4 bytes).
    private static readonly (string Fragment, string Reason)[] KnownPermit2 =
    [
        (Selector("InvalidNonce()"), ReasonCodes.Permit2InvalidNonce),
        (Selector("InvalidSigner()"), ReasonCodes.Permit2InvalidSignature),
        (Selector("SignatureExpired(uint256)"), ReasonCodes.Permit2DeadlineExpired),
        (Selector("PaymentTooEarly()"), ReasonCodes.Permit2NotYetValid),
        ("transfer amount exceeds allowance", ReasonCodes.Permit2AllowanceRequired),
        (Selector("ERC20InsufficientAllowance(address,uint256,uint256)"), ReasonCodes.Permit2AllowanceRequired),
        ("transfer amount exceeds balance", ReasonCodes.Permit2InsufficientBalance),
        (Selector("ERC20InsufficientBalance(address,uint256,uint256)"), ReasonCodes.Permit2InsufficientBalance),
    ];

    /// <summary>A reverted Permit2 settle's reason.</summary>
    public static string MapPermit2(string? message, string? data)
    {
        var text = $"{message} {data}";
        foreach (var (fragment, reason) in KnownPermit2)
        {
            if (text.Contains(fragment, StringComparison.OrdinalIgnoreCase))
            {
                return reason;
            }
        }
        return SimulationFailed;
    }

    private static string Selector(string signature) =>
        Crypto.Hex.Encode(Crypto.Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes(signature)).AsSpan(0, 4));

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

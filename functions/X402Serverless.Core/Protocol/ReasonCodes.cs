namespace X402Serverless.Core.Protocol;

/// <summary>
/// Stable reason strings sent in the x402 "error" field. The exact-EVM ones are the reference implementation's,
/// so x402 clients can map them; the rest are ours and equally stable.
/// </summary>
public static class ReasonCodes
{
    public const string PaymentRequired = "payment_required";
    public const string InvalidPaymentHeader = "invalid_payment_header";
    public const string InvalidPayload = "invalid_payload";
    public const string InvalidVersion = "invalid_x402_version";
    public const string UnsupportedScheme = "unsupported_scheme";
    public const string InvalidNetwork = "invalid_network";
    public const string NoMatchingRequirements = "no_matching_requirements";
    public const string Signature = "invalid_exact_evm_signature";
    public const string RecipientMismatch = "invalid_exact_evm_recipient_mismatch";
    public const string ValidBefore = "invalid_exact_evm_payload_authorization_valid_before";
    public const string ValidAfter = "invalid_exact_evm_payload_authorization_valid_after";
    public const string Value = "invalid_exact_evm_authorization_value";
    public const string NonceAlreadyUsed = "invalid_exact_evm_nonce_already_used";
    public const string PaymentInFlight = "payment_in_flight";
    public const string FacilitatorUnavailable = "facilitator_unavailable";
    public const string SettlementFailed = "settlement_failed";

    /// <summary>The authorization's nonce was used on chain without its transfer (burned, cancelled): nothing was paid.</summary>
    public const string AuthorizationConsumedElsewhere = "authorization_consumed_elsewhere";

    /// <summary>
    /// The built-in facilitator's gas estimate for the settlement is above its ceiling for that transfer method (a payer's
    /// code burning gas in its signature check): refused before anything is sent.
    /// </summary>
    public const string SettlementGasAboveLimit = "settlement_gas_above_limit";

    public const string TransactionFailed = "invalid_exact_evm_transaction_failed";

    /// <summary>An EIP-6492 signature names a factory this gateway does not deploy wallets through (the reference's code).</summary>
    public const string FactoryNotAllowed = "eip6492_factory_not_allowed";

    /// <summary>An EIP-6492 signature's factory call reverts or does not deploy the wallet (the reference's code).</summary>
    public const string WalletDeploymentFailed = "smart_wallet_deployment_failed";

    /// <summary>An EIP-6492 payment below the least this gateway deploys a wallet for (the deployment's gas is the operator's).</summary>
    public const string DeploymentAmountTooLow = "eip6492_amount_too_low";

    // Permit2 "exact" payments: the reference's codes.
    public const string Permit2InvalidSpender = "invalid_permit2_spender";
    public const string Permit2RecipientMismatch = "invalid_permit2_recipient_mismatch";
    public const string Permit2DeadlineExpired = "permit2_deadline_expired";
    public const string Permit2NotYetValid = "permit2_not_yet_valid";
    public const string Permit2AmountMismatch = "permit2_amount_mismatch";
    public const string Permit2TokenMismatch = "permit2_token_mismatch";
    public const string Permit2InvalidSignature = "invalid_permit2_signature";
    public const string Permit2AllowanceRequired = "permit2_allowance_required";
    public const string Permit2InsufficientBalance = "permit2_insufficient_balance";
    public const string Permit2InvalidNonce = "permit2_invalid_nonce";

    /// <summary>The payment's shape (EIP-3009 or Permit2) is not the one the requirement's extra.assetTransferMethod asks for.</summary>
    public const string TransferMethodMismatch = "asset_transfer_method_mismatch";
}

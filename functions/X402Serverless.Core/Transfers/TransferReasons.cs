namespace X402Serverless.Core.Transfers;

/// <summary>
/// Stable reason codes for a payment by transaction hash (x402 TXID draft), sent in the 402's "error" field.
/// Each refusal has its own code so a payer can tell a transfer that will never pay (wrong token, too little)
/// from one that will once it settles (unconfirmed) or once another request lets go of it (in flight).
/// </summary>
public static class TransferReasons
{
    public const string InvalidPayload = "txid_invalid_payload";
    public const string RequirementMismatch = "txid_requirement_mismatch";
    public const string WrongResource = "txid_wrong_resource";
    public const string InvalidSignature = "txid_invalid_signature";
    public const string InFlight = "txid_in_flight";
    public const string AlreadyUsed = "txid_already_used";
    public const string NotFound = "txid_not_found";
    public const string WrongChain = "txid_wrong_chain";
    public const string Reverted = "txid_reverted";
    public const string WrongToken = "txid_wrong_token";
    public const string WrongPayTo = "txid_wrong_payto";
    public const string WrongSender = "txid_wrong_sender";
    public const string InsufficientValue = "txid_insufficient_value";
    public const string Unconfirmed = "txid_unconfirmed";
    public const string TooOld = "txid_too_old";
    public const string ClaimLost = "txid_claim_lost";
    public const string RpcUnavailable = "txid_rpc_unavailable";
}

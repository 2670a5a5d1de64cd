using System.Numerics;
using X402Serverless.Core.Crypto;

namespace X402Serverless.Core.Protocol;

/// <summary>
/// Verifies an exact-EVM payment locally against the link's own requirement: no facilitator round trip.
/// Cheap checks run before the signature recovery so junk costs little.
/// </summary>
public sealed class PaymentVerifier(TimeProvider time)
{
    // The reference facilitator demands validBefore to be at least one block (6 s) away.
    public const int ValidBeforeBufferSeconds = 6;

    // Payers' clocks differ from ours; an authorization may outlive maxTimeoutSeconds by this much, no more.
    public const int ClockSkewSeconds = 60;

    /// <summary>Smart accounts' signatures (passkeys, multisig) run to a few hundred bytes; more is junk.</summary>
    public const int MaxSignatureBytes = 2048;

    /// <summary>An EIP-6492 signature also carries its wallet's factory call (an account factory's is a few hundred bytes).</summary>
    public const int MaxWrappedSignatureBytes = 4096;

    public VerificationResult Verify(DecodedPayment payment, PaymentRequirement requirement)
    {
        if (payment.Scheme != PaymentRequirement.Scheme)
        {
            return VerificationResult.Invalid(ReasonCodes.UnsupportedScheme, $"Scheme '{payment.Scheme}' is not accepted; use 'exact'.");
        }
        if ((payment.Permit2 is not null) != requirement.Permit2)
        {
            return VerificationResult.Invalid(ReasonCodes.TransferMethodMismatch, requirement.Permit2
                ? "This requirement is paid through Permit2 (extra.assetTransferMethod \"permit2\"): send payload.permit2Authorization."
                : "This requirement is paid with an EIP-3009 authorization: send payload.authorization.");
        }
        if (payment.Permit2 is { } permit)
        {
            return VerifyPermit2(payment, permit, requirement);
        }
        var a = payment.Authorization;
        if (a.To != requirement.PayTo)
        {
            return VerificationResult.Invalid(ReasonCodes.RecipientMismatch, "The authorization pays someone other than this link's recipient.");
        }
        var now = new BigInteger(time.GetUtcNow().ToUnixTimeSeconds());
        if (a.ValidBefore < now + ValidBeforeBufferSeconds)
        {
            return VerificationResult.Invalid(ReasonCodes.ValidBefore, "The authorization has expired (validBefore is past or too close).");
        }
        if (a.ValidBefore > now + requirement.MaxTimeoutSeconds + ClockSkewSeconds)
        {
            // A long-lived authorization is a long-lived liability (a deferred job could be settled years later).
            return VerificationResult.Invalid(ReasonCodes.ValidBefore,
                $"validBefore is too far ahead: an authorization here may be valid for at most {requirement.MaxTimeoutSeconds} s.");
        }
        if (a.ValidAfter > now)
        {
            return VerificationResult.Invalid(ReasonCodes.ValidAfter, "The authorization is not valid yet (validAfter is in the future).");
        }
        if (a.Value != requirement.Amount.Units)
        {
            return VerificationResult.Invalid(ReasonCodes.Value, $"The authorization is for {a.Value} atomic units; this link costs exactly {requirement.Amount}.");
        }
        var wrapped = Evm.Erc6492.IsWrapped(payment.Signature);
        var limit = wrapped ? MaxWrappedSignatureBytes : MaxSignatureBytes;
        if (payment.Signature.Length > limit)
        {
            return VerificationResult.Invalid(ReasonCodes.Signature, $"The signature is over {limit} bytes.");
        }
        var digest = Evm.TransferAuthorizationHasher.Digest(requirement.Network.Domain, a);
        // An EIP-6492 wrapper is a contract wallet's by definition: only the chain can say (see ContractSignatures).
        var signer = payment.Signature.Length == 65 && !wrapped ? Secp256k1.Recover(digest, payment.Signature) : null;
        if (signer is null || signer.Value != a.From)
        {
            // Not the EOA's: it may still be a contract wallet's own signature, which only the chain can tell.
            return VerificationResult.Invalid(ReasonCodes.Signature,
                "The signature was made neither by authorization.from for this token and chain nor accepted by a contract wallet at that address (EIP-1271, EIP-6492).")
                with { ContractDigest = digest };
        }
        return VerificationResult.Valid(a.From);
    }

    /// <summary>
    /// A Permit2 payment, checked as the reference facilitator does: the proxy is the spender, the witness pays this
    /// link's recipient, the deadline and validAfter bracket now, the exact amount of this network's token, and
    /// the payer's own signature over Permit2's digest. (Allowance, balance and the nonce are the chain's to say.)
    /// </summary>
    private VerificationResult VerifyPermit2(DecodedPayment payment, Evm.Permit2Authorization p, PaymentRequirement requirement)
    {
        if (p.Spender != Evm.Permit2Contracts.ExactProxy)
        {
            return VerificationResult.Invalid(ReasonCodes.Permit2InvalidSpender,
                $"permit2Authorization.spender must be the x402 exact Permit2 proxy {Evm.Permit2Contracts.ExactProxy}.");
        }
        if (p.To != requirement.PayTo)
        {
            return VerificationResult.Invalid(ReasonCodes.Permit2RecipientMismatch, "witness.to pays someone other than this link's recipient.");
        }
        var now = new BigInteger(time.GetUtcNow().ToUnixTimeSeconds());
        if (p.Deadline < now + ValidBeforeBufferSeconds)
        {
            return VerificationResult.Invalid(ReasonCodes.Permit2DeadlineExpired, "The permit has expired (deadline is past or too close).");
        }
        if (p.Deadline > now + requirement.MaxTimeoutSeconds + ClockSkewSeconds)
        {
            return VerificationResult.Invalid(ReasonCodes.Permit2DeadlineExpired,
                $"deadline is too far ahead: a permit here may be valid for at most {requirement.MaxTimeoutSeconds} s.");
        }
        if (p.ValidAfter > now)
        {
            return VerificationResult.Invalid(ReasonCodes.Permit2NotYetValid, "The permit is not valid yet (witness.validAfter is in the future).");
        }
        if (p.Amount != requirement.Amount.Units)
        {
            return VerificationResult.Invalid(ReasonCodes.Permit2AmountMismatch,
                $"The permit is for {p.Amount} atomic units; this link costs exactly {requirement.Amount}.");
        }
        if (p.Token != requirement.Network.Asset)
        {
            return VerificationResult.Invalid(ReasonCodes.Permit2TokenMismatch, $"permitted.token must be {requirement.Network.Asset}.");
        }
        // Only EOA signatures: Permit2 asks a contract wallet itself, which this gateway does not simulate for Permit2.
        var signer = payment.Signature.Length == 65 ? Secp256k1.Recover(Evm.Permit2Contracts.Digest(requirement.Network.ChainId, p), payment.Signature) : null;
        return signer is { } s && s == p.From
            ? VerificationResult.Valid(p.From)
            : VerificationResult.Invalid(ReasonCodes.Permit2InvalidSignature,
                "The signature is not permit2Authorization.from's over Permit2's PermitWitnessTransferFrom on this chain (contract wallets are not accepted for Permit2 here).");
    }
}

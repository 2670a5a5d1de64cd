using System.Globalization;
using System.Numerics;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Settlement;

namespace X402Serverless.Core.Payments;

/// <summary>Builds the record that reserves a verified payment and carries its settlement job.</summary>
public static class PaymentReservation
{
    public static PaymentRecord For(DecodedPayment payment, PaymentRequirement requirement, string linkId, string organisationId,
        string mode, string facilitator, SettleRequest settleRequest, DateTimeOffset now)
    {
        var auth = payment.Authorization;
        return new PaymentRecord
        {
            Id = PaymentId.For(requirement.Network.ChainId, requirement.Network.Asset, auth.From, auth.Nonce),
            LinkId = linkId,
            OrganisationId = organisationId,
            Network = requirement.Network.Id,
            Asset = requirement.Network.Asset.ToString(),
            Payer = auth.From.ToString(),
            PayTo = requirement.PayTo.ToString(),
            Nonce = Hex.Encode(auth.Nonce),
            Amount = requirement.Amount,
            X402Version = payment.Version,
            Status = PaymentStatus.Reserved,
            Mode = mode,
            Facilitator = facilitator,
            SettleRequest = SettleRequestJson.Write(settleRequest),
            ValidBefore = (long)BigInteger.Min(auth.ValidBefore, long.MaxValue),
            CreatedAt = now,
            UpdatedAt = now,
        };
    }
}

using X402Serverless.Core.Payments;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Charges;

/// <summary>What a captured (or refused) charge tells the payer; the host writes it as response headers.</summary>
public abstract record ChargeReceipt;

/// <summary>Paid from a balance: the amount, whether the allowance or the payer's own credits paid it, and which payer.</summary>
public sealed record BalanceReceipt(Usd Amount, bool FromAllowance, string? PayerId = null) : ChargeReceipt;

/// <summary>
/// An x402 payment: settled in <paramref name="Transaction"/>, left to a deferred job (no transaction yet), or
/// refused with <paramref name="ErrorReason"/>. <paramref name="Version"/> and <paramref name="Network"/> are the
/// payer's own (the header and network name its protocol generation reads).
/// </summary>
public sealed record X402Receipt(int Version, PaymentRecord Payment, string Network, string? Transaction, bool Deferred,
    string? ErrorReason = null, string? ErrorMessage = null) : ChargeReceipt;

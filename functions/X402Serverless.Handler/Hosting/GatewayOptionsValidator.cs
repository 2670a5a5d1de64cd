using Microsoft.Extensions.Options;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// Numbers that only make sense above zero (timeouts, intervals, sizes), or in a range. A zero or negative one would not fail where it
/// is set but later, on some call; checked at start, the error names the setting as configured (X402:..., env X402__...).
/// </summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        void Positive(string setting, long value)
        {
            if (value <= 0)
            {
                failures.Add($"{GatewayOptions.Section}:{setting} must be greater than 0 (it is {value}).");
            }
        }
        Positive(nameof(options.UpstreamTimeoutSeconds), options.UpstreamTimeoutSeconds);
        Positive(nameof(options.MaxTimeoutSeconds), options.MaxTimeoutSeconds);
        Positive(nameof(options.MaxForwardedBodyBytes), options.MaxForwardedBodyBytes);
        Positive(nameof(options.MaxBufferedResponseBytes), options.MaxBufferedResponseBytes);
        var settlement = options.Settlement;
        Positive("Settlement:" + nameof(settlement.ReceiptTimeoutSeconds), settlement.ReceiptTimeoutSeconds);
        Positive("Settlement:" + nameof(settlement.WorkerIntervalMilliseconds), settlement.WorkerIntervalMilliseconds);
        Positive("Settlement:" + nameof(settlement.WorkerBatchSize), settlement.WorkerBatchSize);
        Positive("Settlement:" + nameof(settlement.RetryFirstMilliseconds), settlement.RetryFirstMilliseconds);
        Positive("Settlement:" + nameof(settlement.RetryCapMilliseconds), settlement.RetryCapMilliseconds);
        if (settlement.DeferredMaxInFlightPerPayer is < 0 or >= Core.Payments.PayerHistory.InFlightCountCap)
        {
            failures.Add($"{GatewayOptions.Section}:Settlement:{nameof(settlement.DeferredMaxInFlightPerPayer)} must be from 1 to "
                + $"{Core.Payments.PayerHistory.InFlightCountCap - 1}, or {SettlementOptions.NoDeferredBound} for no bound (it is {settlement.DeferredMaxInFlightPerPayer}).");
        }
        foreach (var factory in settlement.SmartWalletFactories.Where(f => !Core.Evm.EvmAddress.TryParse(f, out _)))
        {
            failures.Add($"{GatewayOptions.Section}:Settlement:{nameof(settlement.SmartWalletFactories)} holds '{factory}', which is not a 0x address.");
        }
        foreach (var (setting, gas) in new[]
        {
            (nameof(settlement.MaxTransferGas), settlement.MaxTransferGas),
            (nameof(settlement.MaxContractWalletTransferGas), settlement.MaxContractWalletTransferGas),
            (nameof(settlement.MaxPermit2SettleGas), settlement.MaxPermit2SettleGas),
        }.Where(g => g.Item2 < 21_000))
        {
            failures.Add($"{GatewayOptions.Section}:Settlement:{setting} must be at least 21000 gas (it is {gas}).");
        }
        if (settlement.MaxBatchTransfers is < 1 or > 256)
        {
            failures.Add($"{GatewayOptions.Section}:Settlement:{nameof(settlement.MaxBatchTransfers)} must be from 1 (no batching) to 256 (it is {settlement.MaxBatchTransfers}).");
        }
        if (settlement.BatchGatherMilliseconds is < 0 or > 1000)
        {
            failures.Add($"{GatewayOptions.Section}:Settlement:{nameof(settlement.BatchGatherMilliseconds)} must be from 0 (never wait) to 1000 (it is {settlement.BatchGatherMilliseconds}).");
        }
        if (settlement.MaxBatchGas < settlement.MaxTransferGas)
        {
            failures.Add($"{GatewayOptions.Section}:Settlement:{nameof(settlement.MaxBatchGas)} must be at least {nameof(settlement.MaxTransferGas)} ({settlement.MaxTransferGas}; it is {settlement.MaxBatchGas}).");
        }
        if (settlement.SmartWalletDeployMinimum.IsNegative)
        {
            failures.Add($"{GatewayOptions.Section}:Settlement:{nameof(settlement.SmartWalletDeployMinimum)} must not be negative (it is {settlement.SmartWalletDeployMinimum}).");
        }
        foreach (var (chain, rate) in options.Transfers.NativeWeiPerUsd)
        {
            if (!long.TryParse(chain, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var chainId)
                || options.Transfers.NativeRateFor(chainId) is null)
            {
                failures.Add($"{GatewayOptions.Section}:Transfers:NativeWeiPerUsd:{chain} must be a positive whole number of wei per USD, keyed by chain id (it is '{rate}').");
            }
        }
        Positive("Stripe:" + nameof(options.Stripe.ToleranceSeconds), options.Stripe.ToleranceSeconds);
        Positive("Kyc:" + nameof(options.Kyc.ToleranceSeconds), options.Kyc.ToleranceSeconds);
        Positive("Health:" + nameof(options.Health.IntervalMinutes), options.Health.IntervalMinutes);
        Positive("Health:" + nameof(options.Health.TimeoutSeconds), options.Health.TimeoutSeconds);
        Positive("Health:" + nameof(options.Health.Concurrency), options.Health.Concurrency);
        RateLimitSettings.Check(options.RateLimits, failures);
        if (options.OutboundWebhooks.RetentionDays is < 0 or > 0 and < OutboundWebhookOptions.MinRetentionDays)
        {
            failures.Add($"{GatewayOptions.Section}:OutboundWebhooks:{nameof(OutboundWebhookOptions.RetentionDays)} must be at least "
                + $"{OutboundWebhookOptions.MinRetentionDays}, or 0 to keep deliveries for ever (it is {options.OutboundWebhooks.RetentionDays}).");
        }
        Positive("PaymentIdentifiers:" + nameof(options.PaymentIdentifiers.WindowMinutes), options.PaymentIdentifiers.WindowMinutes);
        Positive("PaymentIdentifiers:" + nameof(options.PaymentIdentifiers.InFlightSeconds), options.PaymentIdentifiers.InFlightSeconds);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

using X402Serverless.Core.Money;

namespace X402Serverless.Handler.Hosting;

/// <summary>Settings under "X402:Credits".</summary>
public sealed class CreditsOptions
{
    /// <summary>The operator's share of every credit-paid call, in basis points (100 = 1%).</summary>
    public int OperatorFeeBasisPoints { get; set; }

    /// <summary>Where USDC top-ups are paid (the operator's wallet). Empty: USDC top-ups are off.</summary>
    public string? TopUpPayTo { get; set; }

    /// <summary>Smallest and largest top-up.</summary>
    public Usd MinimumTopUp { get; set; } = Usd.FromMicros(1_000_000);

    public Usd MaximumTopUp { get; set; } = Usd.FromMicros(10_000_000_000);

    /// <summary>Run the monthly allowance timer in this process (standalone). In Azure the timer function runs it.</summary>
    public bool RunAllowanceTimer { get; set; } = true;
}

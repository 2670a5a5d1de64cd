using Microsoft.Extensions.Options;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Facilitator;

/// <summary>What the facilitator endpoints need besides the facilitator itself: who may call, what it takes, what it spent.</summary>
internal sealed record FacilitatorService(FacilitatorGate Gate, FacilitatorPolicy Policy, FacilitatorGasMeter Gas, RateLimits.RateLimitGate Limits,
    IOptions<SettlementOptions> Options);

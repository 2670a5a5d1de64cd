using Microsoft.Extensions.Options;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Signup;

/// <summary>Registers self-serve sign-up: its options (X402:Signup), checks, rate limiter and services.</summary>
internal static class SignupServices
{
    public static IServiceCollection AddSignup(this IServiceCollection services)
    {
        services.AddOptions<SignupOptions>().BindConfiguration($"{GatewayOptions.Section}:{nameof(GatewayOptions.Signup)}");
        services.AddSingleton<IValidateOptions<GatewayOptions>, SignupOptionsValidator>();
        services.AddRateLimiter(limiter => limiter.AddPolicy<string, SignupRateLimit>(SignupRateLimit.Name));
        services.AddSingleton<SignupNonces>();
        services.AddSingleton<SiweVerifier>();
        services.AddSingleton<SignupAccounts>();
        return services;
    }
}

/// <summary>Sign-up's numbers, checked at start like the others (<see cref="GatewayOptionsValidator"/>).</summary>
internal sealed class SignupOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var signup = options.Signup;
        var failures = new List<string>();
        void Between(string setting, int value, int min, int max)
        {
            if (value < min || value > max)
            {
                failures.Add($"{GatewayOptions.Section}:Signup:{setting} must be from {min} to {max} (it is {value}).");
            }
        }
        Between(nameof(signup.NonceSeconds), signup.NonceSeconds, 1, 86_400);
        Between(nameof(signup.ClockSkewSeconds), signup.ClockSkewSeconds, 0, 3_600);
        Between(nameof(signup.RequestsPerMinute), signup.RequestsPerMinute, 1, 1_000_000);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

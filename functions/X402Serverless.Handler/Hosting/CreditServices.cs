using X402Serverless.Core.Credits;
using X402Serverless.Handler.Credits;
using X402Serverless.Handler.Payers;

namespace X402Serverless.Handler.Hosting;

/// <summary>Prepaid credits: charging a payer's balance, accounts and their keys, allowances and USDC top-ups.</summary>
internal static class CreditServices
{
    public static IServiceCollection AddCredits(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<CreditCharges>(sp, options.Credits.OperatorFeeBasisPoints));
        services.AddSingleton<AllowanceReset>();
        services.AddHostedSingleton<AllowanceTimer>();
        services.AddSingleton<PayerAccounts>();
        services.AddSingleton<PayerEditor>();
        services.AddSingleton<CreditGrants>();
        services.AddSingleton<PayerAuthFilter>();
        services.AddSingleton<UsdcTopUps>();
        services.AddSingleton<TopUpServices>();
        return services;
    }
}

using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using X402Serverless.Core.Webhooks;
using X402Serverless.Handler.Stripe;

namespace X402Serverless.Handler.Hosting;

/// <summary>Card payments through Stripe (top-ups, passes): the Checkout client and the processor of Stripe's stored webhook events.</summary>
internal static class StripeServices
{
    public static IServiceCollection AddStripe(this IServiceCollection services)
    {
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<StripeCheckoutClient>(sp, new HttpClient { Timeout = TimeSpan.FromSeconds(30) }));
        // Each session is recorded by one of these when it is opened; the event is handed to the one that knows it, in this order.
        services.AddSingleton<ICheckoutFulfilment, CardTopUpFulfilment>();
        services.AddSingleton<ICheckoutFulfilment, Passes.CardPassFulfilment>();
        services.AddSingleton<ICheckoutFulfilment, UnrecordedCheckouts>(); // last: logs what no one recorded
        services.AddSingleton<ICardReversals, CardReversals>();
        services.AddSingleton<CardCheckoutSweep>();
        services.AddSingleton<IExpiredCheckouts>(sp => sp.GetRequiredService<CardCheckoutSweep>());
        services.AddSingleton<InboxProcessor>(sp =>
            ActivatorUtilities.CreateInstance<StripeEventProcessor>(sp, sp.GetRequiredKeyedService<IWebhookInbox>(WebhookSources.Stripe),
                sp.GetRequiredService<ICardChargeStore>(), sp.GetRequiredService<ICardReversals>(), sp.GetRequiredService<IExpiredCheckouts>()));
        return services;
    }
}

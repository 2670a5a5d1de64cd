using System.Globalization;
using System.Net;
using System.Text;
using X402Serverless.Core.Links;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Handler.Paywall;

/// <summary>The page a person sees when opening a paid link in a browser.</summary>
internal static class PaywallPage
{
    public static string Render(PaidLink link, Core.Money.Usd price, IReadOnlyList<PaymentRequirement> requirements, string resource)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        var title = link.Name ?? "Paid API";
        var rows = new StringBuilder();
        foreach (var r in requirements)
        {
            rows.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{E(r.Network.Id)}{(r.Network.V1Name is null ? "" : $" ({E(r.Network.V1Name)})")}</td><td><code>{E(r.Network.Asset.ToString())}</code></td><td>{E(r.Amount.ToString())}</td></tr>");
        }
        return $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Payment required: {{E(title)}}</title>
            <style>
              body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; color: #1b1b1f; }
              .price { font-size: 2.5rem; font-weight: 700; margin: .5rem 0; }
              table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
              td, th { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #ddd; font-size: .9rem; }
              code { word-break: break-all; }
            </style>
            </head>
            <body>
            <p>402 · Payment required</p>
            <h1>{{E(title)}}</h1>
            <p>{{E(link.Description)}}</p>
            <div class="price">${{E(price.ToString())}} <small>USDC per request</small></div>
            <p>Pay to <code>{{E(link.PayTo)}}</code>, on any of:</p>
            <table><thead><tr><th>Network</th><th>Token</th><th>Amount (atomic units)</th></tr></thead><tbody>{{rows}}</tbody></table>
            <h2>How to pay</h2>
            <p>This URL speaks <a href="https://www.x402.org">x402</a>. Call it with any x402 client, for example
            <code>@x402/fetch</code> (v2, header <code>PAYMENT-SIGNATURE</code>) or <code>x402-fetch</code> (v1, header <code>X-PAYMENT</code>):
            the client reads the requirements from this response, signs a USDC transfer authorization and retries.</p>
            <p>Resource: <code>{{E(resource)}}</code></p>
            </body>
            </html>
            """;
    }
}

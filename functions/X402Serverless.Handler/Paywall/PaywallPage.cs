using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using X402Serverless.Core.Links;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// The page a person sees when opening a paid link in a browser: the price, and every way this link takes money.
/// A browser wallet pays through the gateway's own script (allowed by this response's nonce only); prepaid credits
/// pay through a plain form, so the page is usable with script off.
/// </summary>
internal static class PaywallPage
{
    /// <summary>
    /// Only the page's own style element and the gateway's wallet script run; the script may call this origin
    /// (the paid URL) and nothing else; the forms post back here, and the card form's redirect may go on to Stripe's
    /// checkout (<paramref name="checkoutOrigin"/>, when the page has one). No framing.
    /// </summary>
    public static string ContentSecurityPolicy(string nonce, string? checkoutOrigin = null) =>
        $"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; img-src 'self'; " +
        $"form-action 'self'{(checkoutOrigin is null ? "" : " " + checkoutOrigin)}; frame-ancestors 'none'; base-uri 'none'";

    public static string NewNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));

    public static string Render(PaywallView view)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        var link = view.Link;
        var title = link.Name ?? "Paid API";
        var rows = new StringBuilder();
        foreach (var r in view.Requirements)
        {
            rows.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{E(r.Network.Id)}{(r.Network.V1Name is null ? "" : $" ({E(r.Network.V1Name)})")}</td><td><code>{E(r.Network.Asset.ToString())}</code></td><td>{E(r.Amount.ToString())}</td></tr>");
        }
        var takesX402 = link.Accepts.Contains(PaymentTypes.X402) && view.Requirements.Count > 0;
        // A payer key pays from a balance, or spends the payer's pass (bought by card, say) on a link selling passes.
        var takesBalance = link.Accepts.Contains(PaymentTypes.Credits) || link.Accepts.Contains(PaymentTypes.Allowance) || link.Pass is not null;
        var nonce = E(view.Nonce);
        var wallet = takesX402 ? $$"""
            <section id="wallet">
            <h2>Pay with a browser wallet</h2>
            <p>Your wallet signs a USDC transfer authorization for exactly this price; the payment settles on chain
            only if the API answers.</p>
            <p><button id="wallet-pay" type="button" disabled data-method="{{E(view.Method)}}" data-required="{{E(view.RequiredHeader)}}">Pay ${{E(view.Price.ToString())}} with wallet</button></p>
            <p id="wallet-status" role="status" aria-live="polite">Wallet payment needs script; the other options work without it.</p>
            <div id="wallet-result" hidden></div>
            </section>
            """ : "";
        // Signing in with the wallet (x402 sign-in-with-x, made by the page's script) pays from the payer account the
        // wallet signed up with, or spends the wallet's pass: no key is typed.
        var signIn = takesBalance ? $$"""
            <p><button id="signin-pay" type="button" disabled data-method="{{E(view.Method)}}" data-resource="{{E(view.Resource)}}" data-chains="{{E(string.Join(",", view.SignInChainIds))}}" data-statement="{{E(Core.Passes.CreditSpendStatement.For(view.Price, view.Method))}}">Sign in with wallet and pay ${{E(view.Price.ToString())}} from credits or pass</button></p>
            <p id="signin-status" role="status" aria-live="polite" class="hint">Wallet sign-in needs script; the key form works without it.</p>
            <div id="signin-result" hidden></div>
            """ : "";
        var script = takesX402 || takesBalance ? $"""<script nonce="{nonce}" src="{E(view.WalletScriptUrl)}" defer></script>""" : "";
        var credits = takesBalance && view.CreditsFormAction is null ? $$"""
            <section id="credits">
            <h2>Pay from your credits</h2>
            <p>Call this URL with <code>Authorization: Bearer &lt;payer key&gt;</code>. This page does not take keys: providers' pages share its origin.</p>
            {{signIn}}
            </section>
            """ : takesBalance ? $$"""
            <section id="credits">
            <h2>Pay from your credits</h2>
            <form method="post" action="{{E(view.CreditsFormAction)}}" autocomplete="off">
            <label for="payer-key">Payer key</label>
            <input id="payer-key" name="payerKey" type="password" required autocomplete="off" spellcheck="false" placeholder="x402pk_…">
            <input type="hidden" name="idempotencyKey" value="{{Idempotency.PaywallFormKey.New()}}">
            <button type="submit">Pay ${{E(view.Price.ToString())}} from my balance</button>
            </form>
            <p class="hint">Your balance is charged only if the API answers. Your key is sent to this gateway only, never to the API.</p>
            {{signIn}}
            </section>
            """ : "";
        var card = view.CardFormAction is not null && link.Pass is { } pass ? $$"""
            <section id="card">
            <h2>Buy a pass by card</h2>
            <p>{{E(Passes.PassText.Bounds(pass))}} on this API for ${{E(pass.Price.ToString())}}, paid once with Stripe Checkout.</p>
            <form method="post" action="{{E(view.CardFormAction)}}" autocomplete="off">
            <label for="card-payer-key">Payer key (optional)</label>
            <input id="card-payer-key" name="payerKey" type="password" autocomplete="off" spellcheck="false" placeholder="x402pk_…">
            <button type="submit">Pay ${{E(pass.Price.ToString())}} by card</button>
            </form>
            <p class="hint">With your payer key, the pass goes on your account. Without one, an account is made for you when the payment
            completes, and its key is shown once on the page Stripe sends you back to.</p>
            </section>
            """ : "";
        var onChain = takesX402 ? $$"""
            <h2>Pay with an x402 client</h2>
            <p>Pay to <code>{{E(link.PayTo)}}</code>, on any of:</p>
            <table><thead><tr><th>Network</th><th>Token</th><th>Amount (atomic units)</th></tr></thead><tbody>{{rows}}</tbody></table>
            <p>This URL speaks <a href="https://www.x402.org">x402</a>. Call it with any x402 client, for example
            <code>@x402/fetch</code> (v2, header <code>PAYMENT-SIGNATURE</code>) or <code>x402-fetch</code> (v1, header <code>X-PAYMENT</code>):
            the client reads the requirements from this response, signs a USDC transfer authorization and retries.</p>
            """ : "";
        return $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Payment required: {{E(title)}}</title>
            <style nonce="{{nonce}}">
              body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; color: #1b1b1f; }
              .price { font-size: 2.5rem; font-weight: 700; margin: .5rem 0; }
              table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
              td, th { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #ddd; font-size: .9rem; }
              code { word-break: break-all; }
              section { border: 1px solid #ddd; border-radius: .5rem; padding: 0 1rem 1rem; margin: 1rem 0; }
              button { font: inherit; padding: .5rem 1rem; border-radius: .4rem; border: 1px solid #1b1b1f; background: #1b1b1f; color: #fff; cursor: pointer; }
              button:disabled { opacity: .5; cursor: default; }
              input { font: inherit; padding: .45rem; width: 100%; box-sizing: border-box; margin: .3rem 0 .7rem; }
              pre { white-space: pre-wrap; word-break: break-word; background: #f5f5f7; padding: .75rem; border-radius: .4rem; }
              .hint { color: #555; font-size: .85rem; }
            </style>
            </head>
            <body>
            <p>402 · Payment required</p>
            <h1>{{E(title)}}</h1>
            <p>{{E(link.Description)}}</p>
            <div class="price">${{E(view.Price.ToString())}} <small>USDC per request</small></div>
            {{wallet}}
            {{credits}}
            {{card}}
            {{onChain}}
            <p>Resource: <code>{{E(view.Resource)}}</code></p>
            {{script}}
            </body>
            </html>
            """;
    }
}

/// <summary>What the paywall page shows for one request.</summary>
/// <param name="RequiredHeader">The 402's base64 PAYMENT-REQUIRED value, which the wallet script signs for.</param>
/// <param name="CreditsFormAction">Where the credits form posts (the same path and query under /paywall/); null where no key may be typed.</param>
/// <param name="CardFormAction">Where the card form posts (/pass/{id}/card); null where the link's pass cannot be bought by card here.</param>
internal sealed record PaywallView(PaidLink Link, Core.Money.Usd Price, IReadOnlyList<PaymentRequirement> Requirements, string Resource,
    string Method, string RequiredHeader, string Nonce, string WalletScriptUrl, string? CreditsFormAction, string? CardFormAction = null)
{
    /// <summary>The EIP-155 chain ids a sign-in-with-x proof may name on this link (its networks').</summary>
    public IReadOnlyList<long> SignInChainIds { get; init; } = [];
}

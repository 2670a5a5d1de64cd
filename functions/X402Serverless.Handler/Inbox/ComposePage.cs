using System.Net;
using X402Serverless.Core.Links;
using X402Serverless.Handler.Passes;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// An inbox link opened in a browser: a compose form that works without script and pays with a payer key typed into
/// the form (never a cookie, so another site's form cannot spend it): the payer's pass on the inbox first, else its
/// prepaid credits. An inbox selling a pass also offers it by card (Stripe Checkout); the key the buyer then gets
/// sends the message. An inbox paid only by x402 shows how to write with an x402 client instead.
/// </summary>
internal static class ComposePage
{
    /// <summary>The page's policy: no script, and forms posting here or, with a card form, to Stripe's checkout origin.</summary>
    public static string ContentSecurityPolicy(string? checkoutOrigin) =>
        $"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'{(checkoutOrigin is null ? "" : " " + checkoutOrigin)}; frame-ancestors 'none'; base-uri 'none'";

    /// <param name="cardFormAction">Where the card form posts (/pass/{id}/card); null when the pass cannot be bought by card here.</param>
    public static string Render(PaidLink link, string? cardFormAction = null)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        var inbox = link.Inbox!;
        var form = Form(link, $"/l/{link.Id}", payerKey: null)
            ?? "<p>This inbox is paid with x402 only: POST JSON {\"subject\", \"body\", \"replyTo\"} to this URL with an x402 client.</p>";
        var card = cardFormAction is not null && link.Pass is { } pass ? $$"""
            <section id="card">
            <h2>Buy a pass by card</h2>
            <p>{{E(PassText.Bounds(pass, "messages"))}} to this inbox for ${{E(pass.Price.ToString())}}, paid once with Stripe Checkout.</p>
            <form method="post" action="{{E(cardFormAction)}}" autocomplete="off">
            <label for="card-payer-key">Payer key (optional)</label>
            <input id="card-payer-key" name="payerKey" type="password" autocomplete="off" spellcheck="false" placeholder="x402pk_…">
            <button type="submit" id="card-buy">Pay ${{E(pass.Price.ToString())}} by card</button>
            </form>
            <p>With your payer key, the pass goes on your account. Without one, an account is made for you when the payment
            completes; its key is shown once on the page Stripe sends you back to, with this form ready to send.</p>
            </section>
            """ : "";
        var passNote = link.Pass is { } offer
            ? $"""<p id="inbox-pass">Or buy a pass: <strong>{E(PassText.Bounds(offer, "messages"))}</strong> for ${E(offer.Price.ToString())}. A message sent with a pass uses one of its messages; if it cannot be delivered, the message is given back to the pass.</p>"""
            : "";
        return $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Write to {{E(link.Name ?? "this inbox")}}</title>
            <style>{{Style}}</style>
            </head>
            <body>
            <h1 id="inbox-name">{{E(link.Name ?? "Paid inbox")}}</h1>
            <p>{{E(link.Description)}}</p>
            <p id="inbox-price">Writing here costs <strong>${{E(link.Price.ToString())}}</strong> a message (at most {{inbox.MaxMessageBytes}} bytes). If it cannot be delivered, the payment is given back.</p>
            {{passNote}}
            {{form}}
            {{card}}
            </body>
            </html>
            """;
    }

    /// <summary>
    /// The compose form posting to <paramref name="action"/> (the inbox's URL), paid by a payer key: its pass on the
    /// inbox first, else its balance. Null when the inbox takes neither a balance nor a pass (x402 only).
    /// <paramref name="payerKey"/> fills the key box: only the card return page does, with the key it shows anyway.
    /// </summary>
    public static string? Form(PaidLink link, string action, string? payerKey)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        var balances = link.Accepts.Any(a => a is PaymentTypes.Credits or PaymentTypes.Allowance);
        if (!balances && link.Pass is null)
        {
            return null;
        }
        var (keyLabel, button) = (balances, link.Pass is not null) switch
        {
            (true, true) => ("Your payer key (x402pk_…): your pass is used first, else your credits", $"Send (pass, else ${E(link.Price.ToString())})"),
            (true, false) => ("Your payer key (x402pk_…), paid from your credits", $"Pay ${E(link.Price.ToString())} and send"),
            _ => ("Your payer key (x402pk_…): the pass bought with it pays", "Send with my pass"),
        };
        var value = payerKey is null ? "" : $" value=\"{E(payerKey)}\"";
        return $$"""
            <form method="post" action="{{E(action)}}" enctype="application/x-www-form-urlencoded" id="compose">
            <label for="subject">Subject</label><input id="subject" name="subject" maxlength="{{InboxRequest.MaxSubjectChars}}" required>
            <label for="body">Message</label><textarea id="body" name="body" rows="10" required></textarea>
            <label for="replyTo">Your email address (for a reply)</label><input id="replyTo" name="replyTo" type="email">
            <label for="payerKey">{{keyLabel}}</label><input id="payerKey" name="payerKey" type="password" autocomplete="off" required{{value}}>
            <button type="submit" id="send">{{button}}</button>
            </form>
            """;
    }

    public const string Style = """
          body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #1b1b1f; }
          label { display: block; margin-top: .8rem; font-weight: 600; }
          input, textarea { width: 100%; box-sizing: border-box; padding: .4rem; font: inherit; }
          button { margin-top: 1rem; padding: .5rem 1rem; font: inherit; }
        """;

    /// <summary>The answer to a sent form: the receipt, and where its delivery can be followed.</summary>
    public static string Sent(string receipt, string receiptUrl)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        return $$"""
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><title>Message sent</title>
            <style>body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; }</style></head>
            <body>
            <h1 id="sent">Message paid and queued for delivery</h1>
            <p>Receipt: <code id="receipt">{{E(receipt)}}</code></p>
            <p><a href="{{E(receiptUrl)}}" id="receipt-url">Follow its delivery</a></p>
            </body>
            </html>
            """;
    }
}

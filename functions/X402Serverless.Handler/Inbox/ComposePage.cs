using System.Net;
using X402Serverless.Core.Links;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// An inbox link opened in a browser: a compose form that works without script and pays from the sender's prepaid
/// credits with a payer key typed into the form (never a cookie, so another site's form cannot spend them). An
/// inbox paid only by x402 shows how to write with an x402 client instead.
/// </summary>
internal static class ComposePage
{
    public static string Render(PaidLink link)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        var inbox = link.Inbox!;
        var balances = link.Accepts.Any(a => a is PaymentTypes.Credits or PaymentTypes.Allowance);
        var form = balances
            ? $$"""
              <form method="post" action="/l/{{E(link.Id)}}" enctype="application/x-www-form-urlencoded" id="compose">
              <label for="subject">Subject</label><input id="subject" name="subject" maxlength="{{InboxRequest.MaxSubjectChars}}" required>
              <label for="body">Message</label><textarea id="body" name="body" rows="10" required></textarea>
              <label for="replyTo">Your email address (for a reply)</label><input id="replyTo" name="replyTo" type="email">
              <label for="payerKey">Your payer key (x402pk_…), paid from your credits</label><input id="payerKey" name="payerKey" type="password" autocomplete="off" required>
              <button type="submit" id="send">Pay ${{E(link.Price.ToString())}} and send</button>
              </form>
              """
            : "<p>This inbox is paid with x402 only: POST JSON {\"subject\", \"body\", \"replyTo\"} to this URL with an x402 client.</p>";
        return $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Write to {{E(link.Name ?? "this inbox")}}</title>
            <style>
              body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #1b1b1f; }
              label { display: block; margin-top: .8rem; font-weight: 600; }
              input, textarea { width: 100%; box-sizing: border-box; padding: .4rem; font: inherit; }
              button { margin-top: 1rem; padding: .5rem 1rem; font: inherit; }
            </style>
            </head>
            <body>
            <h1 id="inbox-name">{{E(link.Name ?? "Paid inbox")}}</h1>
            <p>{{E(link.Description)}}</p>
            <p id="inbox-price">Writing here costs <strong>${{E(link.Price.ToString())}}</strong> a message (at most {{inbox.MaxMessageBytes}} bytes). If it cannot be delivered, the payment is given back.</p>
            {{form}}
            </body>
            </html>
            """;
    }

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

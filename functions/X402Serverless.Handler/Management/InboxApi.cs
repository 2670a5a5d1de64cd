using Microsoft.Extensions.Options;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Links;
using X402Serverless.Handler.Inbox;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Management;

/// <summary>
/// /api/links/{id}/messages: an inbox owner's messages, their refund and blocking their sender, scoped to the
/// caller's organisation (another organisation's link or a plain link reads 404). The block list itself is edited
/// with PATCH /api/links/{id} {"inbox": {"block": [...]}}.
/// </summary>
internal static class InboxApi
{
    public static void MapInboxApi(this RouteGroupBuilder api)
    {
        var messages = api.MapGroup("/links/{id}/messages");
        messages.MapGet("", ListAsync);
        messages.MapGet("/{receipt}", GetAsync);
        messages.MapPost("/{receipt}/refund", RefundAsync);
        messages.MapPost("/{receipt}/block", BlockAsync);
        api.MapPost("/links/{id}/inbox/secrets", RotateSecretAsync);
    }

    /// <summary>A new signing secret for the inbox's webhook, answered this once; the old ones keep signing for the grace period.</summary>
    private static async Task<IResult> RotateSecretAsync(string id, HttpContext http, LinkServices s, IOptions<Hosting.OutboundWebhookOptions> options)
    {
        if (await FindInboxAsync(id, http, s) is not { } link)
        {
            return Problem.NotFound("Inbox");
        }
        if (link.Inbox!.WebhookUrl is null)
        {
            return Problem.Of(StatusCodes.Status409Conflict, "inbox_has_no_webhook", "The inbox has no webhook, so it has no signing secret.",
                "Set inbox.webhookUrl with PATCH /api/links/{id} first (its first secret is answered then).");
        }
        var (updated, secret) = await InboxWebhookSecrets.RotateAsync(s, link, TimeSpan.FromHours(options.Value.SecretGraceHours), http.RequestAborted);
        return updated is null
            ? Problem.NotFound("Inbox")
            : Results.Created($"/api/links/{link.Id}", LinkView.From(updated, s.Urls.LinkBaseUrl(http.Request), secret));
    }

    private static async Task<IResult> ListAsync(string id, string? after, int? limit, HttpContext http, LinkServices s, InboxOwner owner)
    {
        if (await FindInboxAsync(id, http, s) is not { } link)
        {
            return Problem.NotFound("Inbox");
        }
        var page = await owner.ListAsync(link, after, limit ?? 50, http.RequestAborted);
        var totals = await owner.TotalsAsync(link, http.RequestAborted);
        return Results.Json(new
        {
            items = page.Items.Select(m => InboxMessageView.Summary(m)),
            next = page.Next,
            totals = InboxMessageView.Of(totals),
        });
    }

    private static async Task<IResult> GetAsync(string id, string receipt, HttpContext http, LinkServices s, InboxOwner owner) =>
        await FindMessageAsync(id, receipt, http, s, owner) is { } found ? Results.Json(InboxMessageView.Full(found.Message)) : Problem.NotFound("Message");

    private static async Task<IResult> RefundAsync(string id, string receipt, HttpContext http, LinkServices s, InboxOwner owner)
    {
        if (await FindMessageAsync(id, receipt, http, s, owner) is not { } found)
        {
            return Problem.NotFound("Message");
        }
        var (refunded, refused) = await owner.RefundAsync(found.Message, http.RequestAborted);
        return refused switch
        {
            null => refunded is null ? Problem.NotFound("Message") : Results.Json(InboxMessageView.Full(refunded)),
            "message_not_paid" => Problem.Of(StatusCodes.Status409Conflict, refused, "Nothing was paid for this message, so there is nothing to refund."),
            _ => Problem.Of(StatusCodes.Status409Conflict, refused, "The message is still being delivered.",
                "Refund it once it is delivered or has failed (a failed message is refunded automatically)."),
        };
    }

    private static async Task<IResult> BlockAsync(string id, string receipt, HttpContext http, LinkServices s, InboxOwner owner)
    {
        if (await FindMessageAsync(id, receipt, http, s, owner) is not { } found)
        {
            return Problem.NotFound("Message");
        }
        var blocked = InboxOwner.BlockingSenderOf(found.Link, found.Message);
        var (updated, errors) = await owner.SetBlockedAsync(found.Link, blocked, http.RequestAborted);
        if (errors.Count > 0)
        {
            return Problem.Invalid("The block list is not valid.", errors);
        }
        return updated is null ? Problem.NotFound("Inbox") : Results.Json(new { block = updated.Inbox!.Block });
    }

    private static async Task<PaidLink?> FindInboxAsync(string id, HttpContext http, LinkServices s) =>
        await s.FindOwnLinkAsync(CallerContext.Of(http).Organisation.Id, id, http.RequestAborted) is { Inbox: not null } link ? link : null;

    private static async Task<(PaidLink Link, InboxMessage Message)?> FindMessageAsync(string id, string receipt, HttpContext http, LinkServices s, InboxOwner owner) =>
        await FindInboxAsync(id, http, s) is { } link && await owner.FindAsync(link, receipt, http.RequestAborted) is { } message
            ? (link, message)
            : null;
}

/// <summary>How an owner sees a message: in a list (no body) or whole.</summary>
internal static class InboxMessageView
{
    public static Dictionary<string, object?> Summary(InboxMessage m) => new()
    {
        ["receipt"] = m.Id,
        ["receivedAt"] = m.CreatedAt,
        ["subject"] = m.Subject,
        ["replyTo"] = m.ReplyTo,
        ["sender"] = InboxOwner.SenderOf(m).FirstOrDefault(s => !string.Equals(s, m.ReplyTo, StringComparison.OrdinalIgnoreCase)),
        ["amount"] = m.Amount.ToString(),
        ["paidWith"] = m.PaidWith,
        ["status"] = MessageStatuses.Public(m.Status),
        ["deliveredAt"] = m.DeliveredAt,
        ["refunded"] = m.Refunded,
        ["refundOwed"] = m.RefundOwed,
    };

    public static Dictionary<string, object?> Full(InboxMessage m)
    {
        var view = Summary(m);
        view["body"] = m.Body;
        view["attempts"] = m.Attempts;
        view["targets"] = m.Targets();
        view["deliveredTo"] = m.DeliveredTo ?? [];
        view["lastError"] = m.LastError;
        view["attachments"] = (m.Attachments ?? []).Select(a => new { filename = a.Filename, contentType = a.ContentType }).ToList();
        return view;
    }

    public static object Of(InboxTotals t) => new
    {
        messages = t.Messages,
        paid = t.Paid.ToString(),
        refunded = t.Refunded.ToString(),
        refundOwed = t.RefundOwed.ToString(),
        kept = t.Kept.ToString(),
    };
}

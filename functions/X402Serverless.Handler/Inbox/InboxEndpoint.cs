using Microsoft.Extensions.Options;
using X402Serverless.Core.Charges;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Links;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;
using X402Serverless.Handler.Charges;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// An inbox link's paid URL. POST /l/{id}: the message is checked (nothing charged if refused), paid through the
/// paid path's own authorizer (x402 or balances, the same 402, replay guard and settlement), stored, and queued for
/// delivery: 202 with a receipt. GET /l/{id}/receipts/{receipt}: the delivery status, to whoever holds the receipt.
/// </summary>
internal sealed partial class InboxEndpoint(
    PaidCallAuthorizer authorizer,
    IInboxMessageStore messages,
    IPayerStore payers,
    PublicUrls urls,
    Usage.UsageRecorder usage,
    RateLimits.RateLimitGate limits,
    Charges.X402Charges x402Charges,
    PaymentRequiredResponder paywall,
    TimeProvider time,
    IOptions<CreditsOptions> credits,
    HeldMessages held,
    ILogger<InboxEndpoint> logger)
{
    public const string ReceiptsSegment = "receipts/";

    public async Task<IResult> HandleAsync(HttpContext http, CachedLink cached, string? rest)
    {
        var link = cached.Link;
        var inbox = link.Inbox!;
        if (rest is { Length: > 0 })
        {
            return HttpMethods.IsGet(http.Request.Method) && rest.StartsWith(ReceiptsSegment, StringComparison.Ordinal)
                ? await ReceiptAsync(link, rest[ReceiptsSegment.Length..], http.RequestAborted)
                : Problem.NotFound("Inbox path");
        }
        if (HttpMethods.IsGet(http.Request.Method) && http.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            // No script and no third-party content: the page posts its form to this URL, and its card form to the
            // gateway, whose answer redirects to Stripe's checkout origin (named in form-action, nothing else).
            var card = paywall.CardFormAction(http.Request, link);
            http.Response.Headers.ContentSecurityPolicy = ComposePage.ContentSecurityPolicy(card is null ? null : paywall.CheckoutOrigin);
            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers["Referrer-Policy"] = "no-referrer";
            return Results.Content(ComposePage.Render(link, card), "text/html; charset=utf-8");
        }
        if (!HttpMethods.IsPost(http.Request.Method))
        {
            http.Response.Headers.Allow = "POST";
            return Problem.Of(StatusCodes.Status405MethodNotAllowed, "method_not_allowed", "An inbox takes messages by POST.",
                "POST JSON {\"subject\", \"body\", \"replyTo\"}; without a payment the answer is 402 with the price.");
        }
        var (request, refused) = await InboxRequest.ReadAsync(http.Request, inbox, http.RequestAborted);
        if (request is null)
        {
            return refused!;
        }
        if (request.FormPayerKey is { } formKey && !http.Request.Headers.ContainsKey("Authorization"))
        {
            if (!formKey.StartsWith(PayerKeys.Prefix, StringComparison.Ordinal) || formKey.Length > 200 || formKey.Any(char.IsControl))
            {
                return Problem.Of(StatusCodes.Status400BadRequest, "invalid_payer_key", "The payer key is not one (it starts x402pk_); nothing was charged.");
            }
            // The form's key pays exactly as the header would: the authorizer reads it from there.
            http.Request.Headers.Authorization = "Bearer " + formKey;
        }
        var payer = PayerKeys.FromRequest(http.Request) is { } key
            ? await payers.FindByKeyHashAsync(Core.Access.ManagementKeys.Hash(key), http.RequestAborted)
            : null;
        // Refused before any payment is looked at, so a blocked or limited sender is never charged.
        if (inbox.Block.Count > 0 && (inbox.Blocks(payer?.Id) || inbox.Blocks(request.ReplyTo) || inbox.Blocks(SignedWallet(http, cached))))
        {
            return Problem.Of(StatusCodes.Status403Forbidden, "sender_blocked", "The owner of this inbox does not take messages from this sender.",
                "Nothing was charged.");
        }
        if (request.ReplyTo is { } replyTo && limits.AdmitSender(http, link, replyTo) is { } limited)
        {
            return limited;
        }
        if (payer is not null && inbox.Allows(payer.Id))
        {
            return await AcceptAsync(http, link, request, NewMessage(link, request, InboxMessages.Free) with { Payer = payer.Id }, null);
        }
        var authorization = await authorizer.AuthorizeAsync(http, cached);
        if (authorization.Charge is not { } charge)
        {
            return authorization.Refusal!;
        }
        if (charge is PassCharge pass && inbox.Block.Count > 0 && inbox.Blocks(PassHolderId(pass.Pass.Holder)))
        {
            // A wallet signed in to spend its pass is known only now: blocked, its call goes back to the pass.
            await charge.ReleaseAsync(CancellationToken.None);
            return Problem.Of(StatusCodes.Status403Forbidden, "sender_blocked", "The owner of this inbox does not take messages from this sender.",
                "Nothing was charged.");
        }
        if (charge is PassCharge signedIn && inbox.Allows(PassHolderId(signedIn.Pass.Holder)))
        {
            // A wallet on the allow list proved by its sign-in writes free: its pass keeps the call.
            await charge.ReleaseAsync(CancellationToken.None);
            return await AcceptAsync(http, link, request, NewMessage(link, request, InboxMessages.Free) with { Payer = PassHolderId(signedIn.Pass.Holder) }, null);
        }
        if (charge is X402Charge x402 && inbox.Allows(x402.Payment.Payer))
        {
            // The signed authorization proved the wallet; an allowed one writes free, so nothing is settled.
            await charge.ReleaseAsync(CancellationToken.None);
            return await AcceptAsync(http, link, request, NewMessage(link, request, InboxMessages.Free) with { Payer = x402.Payment.Payer }, null);
        }
        return await AcceptAsync(http, link, request, Paid(NewMessage(link, request, PaymentTypes.X402), charge, cached), charge);
    }

    /// <summary>
    /// Stores the message held, captures the charge, then queues it. The payer pays only for a stored message, and a
    /// message is delivered only once paid: a failed capture removes it, and a charge not captured is released.
    /// </summary>
    private async Task<IResult> AcceptAsync(HttpContext http, PaidLink link, InboxRequest request, InboxMessage message, ICharge? charge)
    {
        var concluded = charge is null;
        try
        {
            await messages.AddAsync(message, CancellationToken.None);
            if (charge is not null)
            {
                var capture = await charge.CaptureAsync(CancellationToken.None);
                concluded = true;
                if (capture.Kind != CaptureKind.Captured)
                {
                    await messages.DeleteHeldAsync(message.Id, CancellationToken.None);
                    return Withheld(http, capture);
                }
                ChargeResults.WriteReceipt(http, capture.Receipt!);
                message = WithReceipt(message, capture.Receipt!);
                if (capture.Receipt is PassReceipt)
                {
                    // A pass message is counted as a use, not a second payment (the pass was counted when sold).
                    usage.Count(link, Core.Usage.UsageKinds.Pass);
                }
                else if (!charge.AlreadyPaid)
                {
                    usage.Charged(link, capture.Receipt!);
                }
            }
            try
            {
                await held.QueueAsync(message, CancellationToken.None);
            }
            catch (Exception e)
            {
                // Paid for (or free) and stored: the held-message sweep queues it, so the sender is not told to pay again.
                Log.QueueFailed(logger, e, message.Id, link.Id);
            }
            var receiptUrl = $"{urls.LinkBaseUrl(http.Request)}/l/{link.Id}/{ReceiptsSegment}{message.Id}";
            http.Response.Headers.Location = receiptUrl;
            if (request.FromForm)
            {
                return Results.Content(ComposePage.Sent(message.Id, receiptUrl), "text/html; charset=utf-8", statusCode: StatusCodes.Status202Accepted);
            }
            return Results.Json(new { receipt = message.Id, status = MessageStatuses.Queued, receiptUrl }, statusCode: StatusCodes.Status202Accepted);
        }
        finally
        {
            if (!concluded)
            {
                await charge!.ReleaseOrLogAsync(logger, link.Id);
            }
        }
    }

    private async Task<IResult> ReceiptAsync(PaidLink link, string receipt, CancellationToken cancellationToken)
    {
        // A receipt of another link, a held (unpaid) message and a malformed id all read as missing.
        var message = InboxMessages.IsReceiptId(receipt) ? await messages.GetAsync(receipt, cancellationToken) : null;
        if (message is null || message.LinkId != link.Id || message.Status == MessageStatuses.Held)
        {
            return Problem.NotFound("Receipt");
        }
        return Results.Json(new
        {
            receipt = message.Id,
            status = MessageStatuses.Public(message.Status),
            createdAt = message.CreatedAt,
            deliveredAt = message.DeliveredAt,
            refunded = message.Refunded,
            refundOwed = message.RefundOwed,
        });
    }

    /// <summary>The wallet named by the request's x402 payment, if it decodes for this link (the block list only refuses, so a claimed wallet can only refuse its claimant).</summary>
    private string? SignedWallet(HttpContext http, CachedLink cached)
    {
        var (version, header) = PaymentHeaders.Read(http.Request);
        return version != 0 && cached.Link.Accepts402 && x402Charges.CheckLocally(header, version, cached.Requirements) is { Payment: { } payment }
            ? payment.Authorization.From.ToString()
            : null;
    }

    private InboxMessage NewMessage(PaidLink link, InboxRequest request, string paidWith)
    {
        var now = time.GetUtcNow();
        return new InboxMessage
        {
            Id = InboxMessages.NewReceiptId(),
            LinkId = link.Id,
            OrganisationId = link.OrganisationId,
            DeliverTo = link.Inbox!.DeliverTo,
            Webhook = link.Inbox.WebhookUrl is not null,
            Subject = request.Subject,
            Body = request.Body,
            ReplyTo = request.ReplyTo,
            Attachments = request.Attachments,
            AutoReply = link.Inbox.AutoReply,
            Status = MessageStatuses.Held,
            NextAttemptAt = now,
            PaidWith = paidWith,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    /// <summary>What the held message records of its charge before capture: a balance's hold, to refund it if delivery fails.</summary>
    private InboxMessage Paid(InboxMessage message, ICharge charge, CachedLink cached) => charge switch
    {
        BalanceCharge balance => message with
        {
            PaidWith = balance.Hold.FromAllowance ? PaymentTypes.Allowance : PaymentTypes.Credits,
            Amount = balance.Hold.Amount,
            Fee = balance.Hold.Amount.Share(credits.Value.OperatorFeeBasisPoints),
            HoldId = balance.Hold.Id,
            HoldSource = balance.Hold.Source,
        },
        X402Charge x402 => message with { Amount = cached.Price, PaymentId = x402.Payment.Id, Payer = x402.Payment.Payer },
        // The content a settled payment was owed: kept, so a request stopped before queueing it still has it queued.
        RedeemCharge owed => message with { Amount = cached.Price, PaymentId = owed.Payment.Id, Payer = owed.Payment.Payer },
        // No money moves per message: the pass was paid when bought. Its id is kept to give the call back on failure.
        PassCharge pass => message with
        {
            PaidWith = InboxPaidWith.Pass, Amount = Core.Money.Usd.Zero, PaymentId = pass.Pass.Id, Payer = PassHolderId(pass.Pass.Holder), SpendId = pass.SpendId,
        },
        _ => message with { Amount = cached.Price },
    };

    /// <summary>A pass holder as the block list names it: the payer id or the wallet ("payer:…" / "wallet:0x…" without the prefix).</summary>
    private static string PassHolderId(string holder) => holder[(holder.IndexOf(':', StringComparison.Ordinal) + 1)..];

    private static InboxMessage WithReceipt(InboxMessage message, ChargeReceipt receipt) => receipt switch
    {
        X402Receipt x402 => message with { PaidWith = PaymentTypes.X402, PaymentId = x402.Payment.Id, Payer = x402.Payment.Payer },
        _ => message,
    };

    /// <summary>A capture that did not take the money: nothing is stored or delivered, and the sender is told why.</summary>
    private static IResult Withheld(HttpContext http, ChargeCapture capture) => capture.Kind switch
    {
        CaptureKind.Refused => Problem.Of(StatusCodes.Status402PaymentRequired, capture.Reason ?? ReasonCodes.SettlementFailed,
            "The payment was refused when settled; the message was not stored.", capture.Message),
        CaptureKind.Unavailable => Problem.Of(StatusCodes.Status503ServiceUnavailable, capture.Reason ?? ReasonCodes.FacilitatorUnavailable,
            "The payment could not be settled now; the message was not stored.", "Nothing was settled. Retry later."),
        _ => ChargeResults.SettlementPending(http, "The payment is still settling; the message was not stored.",
            "Retry with the same payment and the same message: once it has settled, the message is accepted; if it never lands, nothing is charged."),
    };

    private static partial class Log
    {
        [LoggerMessage(127, LogLevel.Error, "Inbox message {MessageId} to link {LinkId} was stored and paid for but could not be queued now; the held-message sweep queues it.")]
        public static partial void QueueFailed(ILogger logger, Exception exception, string messageId, string linkId);
    }
}

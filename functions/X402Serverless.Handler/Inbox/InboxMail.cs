using MimeKit;
using X402Serverless.Core.Inbox;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// The mail a message becomes, built with MimeKit so every header is encoded by the library, never concatenated:
/// the sender's text is a text/plain part (never HTML), their address only a Reply-To, and the Message-ID derived
/// from the receipt so every attempt sends the same mail.
/// </summary>
internal static class InboxMail
{
    public static MimeMessage Compose(InboxMessage message, string from, string messageIdDomain)
    {
        var mail = new MimeMessage
        {
            MessageId = message.MessageIdHeader(messageIdDomain),
            Subject = message.Subject,
            Date = message.CreatedAt,
            Body = Body(message),
        };
        mail.From.Add(MailboxAddress.Parse(from));
        mail.To.Add(MailboxAddress.Parse(message.DeliverTo));
        if (message.ReplyTo is { } replyTo)
        {
            mail.ReplyTo.Add(new MailboxAddress("", replyTo));
        }
        mail.Headers.Add("X-Inbox-Link", message.LinkId);
        mail.Headers.Add("X-Inbox-Paid", message.PaidWith switch
        {
            InboxMessages.Free => "free (allowed sender)",
            // The pass's id only: the owner sees it in the link's passes; the holder is not named in the mail.
            InboxPaidWith.Pass => $"pass {message.PaymentId}",
            _ => $"{message.Amount} USD ({message.PaidWith})",
        });
        return mail;
    }

    // The text alone, or multipart/mixed with each file a base64 part marked attachment (the types allowed are never HTML).
    private static MimeEntity Body(InboxMessage message)
    {
        var text = new TextPart(MimeKit.Text.TextFormat.Plain) { Text = message.Body };
        if (message.Attachments is not { Count: > 0 } attachments)
        {
            return text;
        }
        var mixed = new Multipart("mixed") { text };
        foreach (var file in attachments)
        {
            mixed.Add(new MimePart(ContentType.Parse(file.ContentType))
            {
                Content = new MimeContent(new MemoryStream(Convert.FromBase64String(file.ContentBase64))),
                ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                ContentTransferEncoding = ContentEncoding.Base64,
                FileName = file.Filename,
            });
        }
        return mixed;
    }

    /// <summary>The owner's automatic answer to the sender, once their message is delivered.</summary>
    public static MimeMessage AutoReply(InboxMessage message, string text, string from, string messageIdDomain)
    {
        var mail = new MimeMessage
        {
            MessageId = $"reply-{message.MessageIdHeader(messageIdDomain)}",
            Subject = "Re: " + message.Subject,
            Body = new TextPart(MimeKit.Text.TextFormat.Plain) { Text = text },
        };
        mail.InReplyTo = message.MessageIdHeader(messageIdDomain);
        mail.From.Add(MailboxAddress.Parse(from));
        mail.To.Add(new MailboxAddress("", message.ReplyTo!));
        mail.Headers.Add("Auto-Submitted", "auto-replied");
        return mail;
    }
}

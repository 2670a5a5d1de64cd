using System.Text;
using System.Text.Json;
using MimeKit;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Json;
using X402Serverless.Core.Links;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// A sender's message, {subject, body, replyTo}, read within the inbox's size limit and checked before anything is
/// charged. Subject and reply-to become mail headers: a line break or other control character in either is refused
/// (header injection), never cleaned up into something the sender did not write.
/// </summary>
internal sealed record InboxRequest(string Subject, string Body, string? ReplyTo)
{
    /// <summary>JSON only: [{filename, contentType, contentBase64}], counted in the inbox's size limit with the rest.</summary>
    public IReadOnlyList<InboxAttachment>? Attachments { get; init; }

    /// <summary>
    /// Sent from the compose form (application/x-www-form-urlencoded): the answer is a page, and the payer key comes
    /// in the form itself. Never from a cookie: another site can post this form, but cannot know the key.
    /// </summary>
    public bool FromForm { get; init; }

    public string? FormPayerKey { get; init; }

    public const string FormMediaType = "application/x-www-form-urlencoded";

    private static readonly HashSet<string> FormFields = ["subject", "body", "replyTo", "payerKey"];

    public const int MaxSubjectChars = 200;
    public const string TooLargeCode = "message_too_large";
    public const string HeaderInjectionCode = "header_injection";

    private static readonly HashSet<string> Fields = ["subject", "body", "replyTo", "attachments"];

    /// <summary>The message, or the problem (400, 413, 415) refusing it.</summary>
    public static async Task<(InboxRequest? Request, IResult? Problem)> ReadAsync(HttpRequest request, InboxSettings inbox, CancellationToken cancellationToken)
    {
        var limit = inbox.MaxMessageBytes;
        if (request.ContentLength > limit)
        {
            return (null, TooLarge(limit));
        }
        var form = request.ContentType is { } formType && formType.StartsWith(FormMediaType, StringComparison.OrdinalIgnoreCase);
        if (!form && request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Problems.Problem.Of(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", "A message is JSON: {\"subject\", \"body\", \"replyTo\"}."));
        }
        if (form)
        {
            return await ReadFormAsync(request, inbox, cancellationToken);
        }
        var buffer = new byte[limit + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }
        if (length > limit)
        {
            return (null, TooLarge(limit));
        }
        if (!StrictJson.TryParse(buffer.AsMemory(0, length), out var root) || root.ValueKind != JsonValueKind.Object)
        {
            return (null, Invalid(new ValidationError("", "invalid_json", "The body must be a JSON object: {\"subject\", \"body\", \"replyTo\"}.")));
        }
        return Check(root);
    }

    private static (InboxRequest? Request, IResult? Problem) Check(JsonElement root)
    {
        var errors = new List<ValidationError>();
        foreach (var property in root.EnumerateObject().Where(p => !Fields.Contains(p.Name)))
        {
            errors.Add(new(property.Name, "unknown_field", $"'{property.Name}' is not a field of a message."));
        }
        var subject = Text(root, "subject", errors, required: true);
        var body = Text(root, "body", errors, required: true);
        var replyTo = Text(root, "replyTo", errors, required: false);
        if (subject is not null)
        {
            if (HasControl(subject))
            {
                errors.Add(new("subject", HeaderInjectionCode, "subject may not contain line breaks or other control characters."));
            }
            else if (subject.Trim().Length == 0 || subject.Length > MaxSubjectChars)
            {
                errors.Add(new("subject", "invalid_subject", $"subject must have 1 to {MaxSubjectChars} characters."));
            }
        }
        if (body is { Length: 0 })
        {
            errors.Add(new("body", "invalid_body", "body may not be empty."));
        }
        if (replyTo is not null)
        {
            if (HasControl(replyTo))
            {
                errors.Add(new("replyTo", HeaderInjectionCode, "replyTo may not contain line breaks or other control characters."));
            }
            else if (!InboxRules.IsAddress(replyTo) || !MailboxAddress.TryParse(replyTo, out var parsed) || parsed.Address != replyTo)
            {
                errors.Add(new("replyTo", "invalid_reply_to", "replyTo must be one bare email address such as you@example.com."));
            }
        }
        var attachments = root.TryGetProperty("attachments", out var files) && files.ValueKind != JsonValueKind.Null ? ReadAttachments(files, errors) : null;
        return errors.Count > 0 ? (null, Invalid([.. errors])) : (new InboxRequest(subject!, body!, replyTo) { Attachments = attachments }, null);
    }

    private static List<InboxAttachment>? ReadAttachments(JsonElement files, List<ValidationError> errors)
    {
        if (files.ValueKind != JsonValueKind.Array || files.GetArrayLength() > AttachmentRules.MaxAttachments)
        {
            errors.Add(new("attachments", "invalid_attachments", $"attachments must be an array of at most {AttachmentRules.MaxAttachments} files."));
            return null;
        }
        var read = new List<InboxAttachment>();
        var index = 0;
        foreach (var file in files.EnumerateArray())
        {
            var field = $"attachments[{index++}]";
            if (file.ValueKind != JsonValueKind.Object || file.EnumerateObject().Any(p => p.Name is not ("filename" or "contentType" or "contentBase64")))
            {
                errors.Add(new(field, "invalid_attachment", "An attachment is {\"filename\", \"contentType\", \"contentBase64\"}."));
                continue;
            }
            var name = Text(file, "filename", errors, required: true);
            var type = Text(file, "contentType", errors, required: true);
            var content = Text(file, "contentBase64", errors, required: true);
            if (name is not null && !AttachmentRules.IsSafeFilename(name))
            {
                errors.Add(new(field + ".filename", "invalid_attachment_filename",
                    $"A file name has 1 to {AttachmentRules.MaxFilenameChars} letters, digits, spaces, '-', '_', '.', '(' or ')', and no leading dot."));
            }
            if (type is not null && !AttachmentRules.IsAllowedType(type))
            {
                errors.Add(new(field + ".contentType", "attachment_type_not_allowed", $"Allowed types: {string.Join(", ", AttachmentRules.AllowedTypes)}."));
            }
            var bytes = new byte[content?.Length ?? 0];
            if (content is not null && (content.Length == 0 || !Convert.TryFromBase64String(content, bytes, out _)))
            {
                errors.Add(new(field + ".contentBase64", "invalid_attachment_content", "contentBase64 must be non-empty standard base64."));
            }
            if (name is not null && type is not null && content is not null)
            {
                read.Add(new InboxAttachment(name, type, content));
            }
        }
        return read.Count > 0 ? read : null;
    }

    /// <summary>
    /// The compose form's post: percent-encoding can triple a character, so the raw body may be that much larger;
    /// the message itself, as JSON, must still fit the inbox's limit, and is then checked exactly as JSON is.
    /// </summary>
    private static async Task<(InboxRequest? Request, IResult? Problem)> ReadFormAsync(HttpRequest request, InboxSettings inbox, CancellationToken cancellationToken)
    {
        var rawLimit = inbox.MaxMessageBytes * 3 + 512;
        if (request.ContentLength > rawLimit)
        {
            return (null, TooLarge(inbox.MaxMessageBytes));
        }
        var buffer = new byte[rawLimit + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }
        if (length > rawLimit)
        {
            return (null, TooLarge(inbox.MaxMessageBytes));
        }
        Dictionary<string, Microsoft.Extensions.Primitives.StringValues> fields;
        try
        {
            fields = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new System.Text.UTF8Encoding(false, true).GetString(buffer, 0, length));
        }
        catch (DecoderFallbackException)
        {
            return (null, Invalid(new ValidationError("", "invalid_form", "The form must be UTF-8.")));
        }
        var errors = fields.Keys.Where(k => !FormFields.Contains(k))
            .Select(k => new ValidationError(k, "unknown_field", $"'{k}' is not a field of a message."))
            .Concat(fields.Where(f => f.Value.Count > 1).Select(f => new ValidationError(f.Key, "invalid_" + f.Key, $"{f.Key} may be given once.")))
            .ToArray();
        if (errors.Length > 0)
        {
            return (null, Invalid(errors));
        }
        string? Field(string name) => fields.TryGetValue(name, out var v) && v.ToString() is { Length: > 0 } text ? text : null;
        // An empty reply-to box means none; the message's fields then take the JSON path's checks.
        var json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string?>
        {
            ["subject"] = fields.TryGetValue("subject", out var subject) ? subject.ToString() : null,
            ["body"] = fields.TryGetValue("body", out var body) ? body.ToString() : null,
            ["replyTo"] = Field("replyTo"),
        });
        if (json.Length > inbox.MaxMessageBytes)
        {
            return (null, TooLarge(inbox.MaxMessageBytes));
        }
        var (message, problem) = Check(JsonDocument.Parse(json).RootElement);
        return message is null ? (null, problem) : (message with { FromForm = true, FormPayerKey = Field("payerKey")?.Trim() }, null);
    }

    private static string? Text(JsonElement root, string name, List<ValidationError> errors, bool required)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors.Add(new(name, "missing_" + name, $"{name} is required."));
            }
            return null;
        }
        if (value.ValueKind != JsonValueKind.String || !StrictJson.HasOnlyValidStrings(value))
        {
            errors.Add(new(name, "invalid_" + name, $"{name} must be a string."));
            return null;
        }
        return value.GetString();
    }

    // Any C0/C1 control character or a Unicode line/paragraph separator: each can break or fold a header line.
    private static bool HasControl(string value) => value.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085');

    private static IResult TooLarge(int limit) => Problems.Problem.Of(StatusCodes.Status413PayloadTooLarge, TooLargeCode,
        "The message is larger than this inbox accepts; nothing was charged.", $"This inbox takes messages of at most {limit} bytes of JSON.");

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Invalid(params ValidationError[] errors) => Problems.Problem.Invalid("The message was refused; nothing was charged.", errors);
}

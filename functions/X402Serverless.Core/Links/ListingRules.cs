using System.Text.Json;

namespace X402Serverless.Core.Links;

/// <summary>
/// The bounds of a listing and how a draft changes one. Bounds keep a listing small enough for one Table Storage
/// property (32K characters) and a catalogue of a thousand links quick to build and send.
/// </summary>
public static class ListingRules
{
    public const int MaxTags = 10;
    public const int MaxTagLength = 32;
    public const int MaxCategoryLength = 64;
    public const int MaxExampleLength = 2000;
    public const int MaxSchemaBytes = 8192;
    public const int MaxHealthPathLength = 256;

    public static void Check(LinkDraft draft, List<ValidationError> errors)
    {
        if (draft.Tags is { } tags)
        {
            if (tags.Count > MaxTags)
            {
                errors.Add(new("tags", "too_many_tags", $"tags lists at most {MaxTags} tags."));
            }
            if (tags.Any(t => t.Length is 0 or > MaxTagLength || !t.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            {
                errors.Add(new("tags", "invalid_tag", $"a tag is 1 to {MaxTagLength} letters, digits, '-', '_' or '.', e.g. \"weather\"."));
            }
        }
        if (draft.Category is { Length: > MaxCategoryLength })
        {
            errors.Add(new("category", "too_long", $"category is at most {MaxCategoryLength} characters."));
        }
        if (draft.ExampleRequest is { Length: > MaxExampleLength })
        {
            errors.Add(new("exampleRequest", "too_long", $"exampleRequest is at most {MaxExampleLength} characters."));
        }
        CheckSchema("inputSchema", draft.InputSchema, errors);
        CheckSchema("outputSchema", draft.OutputSchema, errors);
        if (draft.HealthPath is { Length: > 0 } healthPath && HealthPathError(healthPath) is { } healthError)
        {
            errors.Add(new("healthPath", "invalid_health_path", healthError));
        }
    }

    /// <summary>
    /// Why a health path cannot be probed, or null. It must stay below the upstream URL (so a probe reaches only what
    /// paid calls can): a '/'-led path of plain URL characters and an optional query, no dot segments, no
    /// fragment, no backslash, no encoded '/', '' or '.', nothing that would make it a URL of its own.
    /// </summary>
    public static string? HealthPathError(string path)
    {
        const string Rule = "healthPath is a path below the upstream URL, e.g. \"/health\" or \"/status?full=0\"";
        if (path.Length > MaxHealthPathLength)
        {
            return $"{Rule}, at most {MaxHealthPathLength} characters.";
        }
        if (path[0] != '/' || path.StartsWith("//", StringComparison.Ordinal))
        {
            return $"{Rule}: it starts with a single '/'.";
        }
        if (!path.All(c => char.IsAsciiLetterOrDigit(c) || "-._~!$&'()*+,;=:@/?%".Contains(c, StringComparison.Ordinal)))
        {
            return $"{Rule}: letters, digits and -._~!$&'()*+,;=:@/?% only.";
        }
        var pathPart = path.Split('?', 2)[0];
        if (pathPart.Split('/').Any(segment => segment is "." or "..")
            || pathPart.Contains("%2f", StringComparison.OrdinalIgnoreCase) || pathPart.Contains("%5c", StringComparison.OrdinalIgnoreCase)
            || pathPart.Contains("%2e", StringComparison.OrdinalIgnoreCase))
        {
            return $"{Rule}: no '.' or '..' segments and no encoded '/', '\\' or '.'.";
        }
        return null;
    }

    /// <summary>The listing after the draft's present fields are applied to <paramref name="current"/>.</summary>
    public static LinkListing Apply(LinkListing current, LinkDraft draft) => current with
    {
        Listed = draft.Listed ?? current.Listed,
        Tags = draft.Tags ?? current.Tags,
        Category = draft.Category is null ? current.Category : EmptyAsNull(draft.Category),
        ExampleRequest = draft.ExampleRequest is null ? current.ExampleRequest : EmptyAsNull(draft.ExampleRequest),
        InputSchema = draft.InputSchema.IsSent ? Compact(draft.InputSchema.Value) : current.InputSchema,
        OutputSchema = draft.OutputSchema.IsSent ? Compact(draft.OutputSchema.Value) : current.OutputSchema,
        HealthProbe = draft.HealthProbe ?? current.HealthProbe,
        HealthPath = draft.HealthPath is null ? current.HealthPath : EmptyAsNull(draft.HealthPath),
    };

    /// <summary>A listed link needs a name: it is the title in the catalogue and the name agents see.</summary>
    public static ValidationError? CheckListed(PaidLink link) =>
        link.Listing.Listed && string.IsNullOrWhiteSpace(link.Name)
            ? new("listed", "listing_needs_name", "a listed link needs a name: set name with listed.")
            : null;

    private static void CheckSchema(string field, Json.Patch<JsonElement> schema, List<ValidationError> errors)
    {
        if (!schema.IsSent || schema.Value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return;
        }
        if (Parse(schema.Value) is not { } parsed)
        {
            errors.Add(new(field, "invalid_schema", $"{field} is a JSON Schema: a JSON object, or a string holding one."));
        }
        else if (System.Text.Encoding.UTF8.GetByteCount(parsed) > MaxSchemaBytes)
        {
            errors.Add(new(field, "schema_too_large", $"{field} is at most {MaxSchemaBytes} bytes of JSON."));
        }
    }

    // A schema may come as the object itself or as JSON text (handy from forms and shells); either way it is stored compact.
    private static string? Parse(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            return CompactText(value);
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(value.GetString()!, new JsonDocumentOptions { MaxDepth = 32 });
            return document.RootElement.ValueKind == JsonValueKind.Object ? CompactText(document.RootElement) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string CompactText(JsonElement value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            value.WriteTo(writer);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string? Compact(JsonElement value) =>
        value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? null : Parse(value);

    private static string? EmptyAsNull(string value) => value.Length == 0 ? null : value;
}

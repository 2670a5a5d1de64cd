using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using X402Serverless.Core.Links;

namespace X402Serverless.Handler.Management;

/// <summary>One operation of an imported document, with what its link's listing is made of.</summary>
internal sealed record ImportedOperation(
    string Key,
    string? OperationId,
    string Method,
    string Path,
    string? Summary,
    string? Description,
    IReadOnlyList<string> Tags,
    string? InputSchema,
    string? OutputSchema,
    string? ExampleRequest)
{
    /// <summary>"METHOD /path", the name an operation without an operationId goes by.</summary>
    public string MethodAndPath => $"{Method} {Path}";

    /// <summary>The path before its first templated segment: the link's part of the upstream ("/pets/{petId}" → "/pets").</summary>
    public string StaticPrefix => OpenApiOperations.StaticPrefix(Path);
}

/// <summary>
/// Reads an OpenAPI 3 document (JSON or YAML) with Microsoft.OpenApi and lists its operations. External references
/// are never loaded: the reader would fetch them without the upstream address rules.
/// </summary>
internal static class OpenApiOperations
{
    /// <summary>At most this many operations per import: one import must stay one quick request.</summary>
    public const int MaxOperations = 200;

    private static readonly string[] BodyMethods = ["POST", "PUT", "PATCH"];

    public sealed record Reading(IReadOnlyList<ImportedOperation> Operations, string? FirstServerUrl);

    public static (Reading? Reading, List<ValidationError> Errors) Read(string text)
    {
        try
        {
            return ReadDocument(text);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
        {
            // The reader and model walk run on anyone's text; whatever they throw means the document is not one we can use.
            return (null, [new("document", "invalid_document", $"The document could not be read as OpenAPI: {Shorten(e.Message)}")]);
        }
    }

    private static (Reading? Reading, List<ValidationError> Errors) ReadDocument(string text)
    {
        var settings = new OpenApiReaderSettings { LoadExternalRefs = false };
        settings.AddYamlReader();
        var trimmed = text.AsSpan().TrimStart();
        var format = trimmed.Length > 0 && trimmed[0] == '{' ? OpenApiConstants.Json : OpenApiConstants.Yaml;
        var result = OpenApiDocument.Parse(text, format, settings);
        var document = result.Document;
        var errors = result.Diagnostic?.Errors ?? [];
        if (document is null || errors.Count > 0)
        {
            var first = errors.Take(5).Select(e => $"{e.Pointer} {e.Message}".Trim());
            return (null, [new("document", "invalid_document", $"The document is not valid OpenAPI: {Shorten(string.Join("; ", first))}")]);
        }
        if (result.Diagnostic?.SpecificationVersion is OpenApiSpecVersion.OpenApi2_0)
        {
            return (null, [new("document", "unsupported_version", "Only OpenAPI 3 documents are imported; convert a Swagger 2.0 document first.")]);
        }
        // Counted before any is described: describing inlines schemas, the costly part.
        var count = (document.Paths ?? []).Sum(p => p.Value.Operations?.Count ?? 0);
        if (count == 0)
        {
            return (null, [new("document", "no_operations", "The document has no operations under paths.")]);
        }
        if (count > MaxOperations)
        {
            return (null, [new("document", "too_many_operations", $"The document has {count} operations; one import takes at most {MaxOperations} (use include).")]);
        }
        var operations = new List<ImportedOperation>();
        foreach (var (path, item) in document.Paths ?? [])
        {
            foreach (var (method, operation) in item.Operations ?? [])
            {
                operations.Add(Describe(path, method.Method.ToUpperInvariant(), item, operation));
            }
        }
        return (new Reading(operations, ServerUrl(document.Servers?.FirstOrDefault())), []);
    }

    public static string StaticPrefix(string path)
    {
        var segments = path.Split('/');
        var fixedCount = segments.TakeWhile(s => !s.Contains('{', StringComparison.Ordinal)).Count();
        return string.Join('/', segments.Take(fixedCount)).TrimEnd('/');
    }

    private static ImportedOperation Describe(string path, string method, IOpenApiPathItem item, OpenApiOperation operation)
    {
        var parameters = (item.Parameters ?? []).Concat(operation.Parameters ?? [])
            .GroupBy(p => (p.Name, p.In)).Select(g => g.Last()).ToList(); // an operation's parameter overrides the path's
        var isBody = BodyMethods.Contains(method);
        var body = operation.RequestBody?.Content is { } content ? JsonMedia(content) : null;
        var input = isBody ? SchemaText(body?.Schema) : QuerySchema(parameters);
        var ok = operation.Responses?.Where(r => r.Key is "200" or "201" or "2XX").Select(r => r.Value.Content).FirstOrDefault(c => c is not null);
        var output = ok is null ? null : SchemaText(JsonMedia(ok)?.Schema);
        var key = string.IsNullOrWhiteSpace(operation.OperationId) ? $"{method} {path}" : operation.OperationId;
        return new ImportedOperation(key, operation.OperationId, method, path, operation.Summary, operation.Description,
            (operation.Tags ?? new HashSet<OpenApiTagReference>()).Select(t => t.Name).OfType<string>().ToList(),
            input, output, Example(path, method, parameters, isBody ? body : null));
    }

    private static IOpenApiMediaType? JsonMedia(IDictionary<string, IOpenApiMediaType> content) =>
        content.FirstOrDefault(c => c.Key.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            || c.Key.EndsWith("+json", StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>The query parameters as one object schema: what a listing's input is for a GET or DELETE.</summary>
    private static string? QuerySchema(List<IOpenApiParameter> parameters)
    {
        var query = parameters.Where(p => p.In == ParameterLocation.Query && p.Name is not null).ToList();
        if (query.Count == 0)
        {
            return null;
        }
        var properties = new JsonObject();
        foreach (var p in query)
        {
            var schema = SchemaText(p.Schema) is { } text ? JsonNode.Parse(text)!.AsObject() : new JsonObject();
            if (p.Description is { Length: > 0 } d && !schema.ContainsKey("description"))
            {
                schema["description"] = d;
            }
            properties[p.Name!] = schema;
        }
        var result = new JsonObject { ["type"] = "object", ["properties"] = properties };
        var required = query.Where(p => p.Required).Select(p => (JsonNode?)p.Name).ToArray();
        if (required.Length > 0)
        {
            result["required"] = new JsonArray(required);
        }
        return Bounded(result.ToJsonString());
    }

    /// <summary>A schema as compact JSON with local references inlined; null when it is no object or too big for a listing.</summary>
    private static string? SchemaText(IOpenApiSchema? schema)
    {
        if (schema is null)
        {
            return null;
        }
        try
        {
            // Inlining expands a tree of references in full (a few kilobytes of $refs that fan out to millions of nodes):
            // the writer stops as soon as the text outgrows what a listing keeps, so a schema costs at most that much.
            using var text = new BoundedStringWriter(ListingRules.MaxSchemaBytes * 2);
            var writer = new OpenApiJsonWriter(text, new OpenApiJsonWriterSettings { Terse = true, InlineLocalReferences = true });
            schema.SerializeAsV31(writer);
            return Bounded(text.ToString());
        }
        catch (Exception e) when (e is OpenApiException or InvalidOperationException or JsonException)
        {
            return null; // a schema the writer cannot render is left out of the listing, not a reason to refuse the operation
        }
    }

    private static string? Bounded(string json)
    {
        using var parsed = JsonDocument.Parse(json);
        if (parsed.RootElement.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var compact = JsonSerializer.Serialize(parsed.RootElement);
        return Encoding.UTF8.GetByteCount(compact) <= ListingRules.MaxSchemaBytes ? compact : null;
    }

    /// <summary>
    /// A working request relative to the link, from the document's examples: every path parameter after the static
    /// prefix and every required query parameter needs one; a body method needs a JSON body example. Else none.
    /// </summary>
    private static string? Example(string path, string method, List<IOpenApiParameter> parameters, IOpenApiMediaType? body)
    {
        var rest = path[StaticPrefix(path).Length..];
        foreach (var p in parameters.Where(p => p.In == ParameterLocation.Path))
        {
            var placeholder = "{" + p.Name + "}";
            if (!rest.Contains(placeholder, StringComparison.Ordinal))
            {
                continue;
            }
            if (ExampleOf(p.Example, p.Examples) is not { } value)
            {
                return null;
            }
            rest = rest.Replace(placeholder, Uri.EscapeDataString(Scalar(value)), StringComparison.Ordinal);
        }
        if (rest.Contains('{', StringComparison.Ordinal))
        {
            return null;
        }
        var query = new List<string>();
        foreach (var p in parameters.Where(p => p.In == ParameterLocation.Query && p.Name is not null))
        {
            if (ExampleOf(p.Example, p.Examples) is { } value)
            {
                query.Add($"{Uri.EscapeDataString(p.Name!)}={Uri.EscapeDataString(Scalar(value))}");
            }
            else if (p.Required)
            {
                return null;
            }
        }
        var target = (rest.Length == 0 ? "/" : rest) + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        if (body is null)
        {
            return BodyMethods.Contains(method) || (query.Count == 0 && rest.Length == 0) ? null : $"{method} {target}";
        }
        return ExampleOf(body.Example, body.Examples) is JsonObject json ? $"{method} {target} {json.ToJsonString()}" : null;
    }

    private static JsonNode? ExampleOf(JsonNode? example, IDictionary<string, IOpenApiExample>? examples) =>
        example ?? examples?.Values.Select(e => e.Value).FirstOrDefault(v => v is not null);

    private static string Scalar(JsonNode value) =>
        value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value.ToJsonString();

    /// <summary>The server's URL with its variables at their defaults.</summary>
    private static string? ServerUrl(OpenApiServer? server)
    {
        if (server?.Url is not { Length: > 0 } url)
        {
            return null;
        }
        foreach (var (name, variable) in server.Variables ?? new Dictionary<string, OpenApiServerVariable>())
        {
            url = url.Replace("{" + name + "}", variable.Default, StringComparison.Ordinal);
        }
        return url;
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.Links;

namespace X402Serverless.Handler.Listings;

/// <summary>
/// A listed link's x402 Bazaar discovery extension (`extensions.bazaar` of @x402/extensions): `info` says how to
/// call it (input: type "http", method, queryParams or bodyType + body, with the listing's example values; output)
/// and `schema` is a JSON Schema (2020-12) of that `info`, embedding the listing's input and output schemas where the
/// reference's declareDiscoveryExtension puts them. Crawlers and facilitators validate `info` against `schema`
/// (extractDiscoveryInfo), so the example request must fit the input schema. Built once per cached link; the
/// per-method object is rendered with the link's 402, which is itself cached.
/// </summary>
internal sealed class BazaarExtension
{
    public const string Key = "bazaar";

    private const int MaxTags = 5;
    private const int MaxServiceText = 32;

    private static readonly HashSet<string> QueryMethods = ["GET", "HEAD", "DELETE"];
    private static readonly HashSet<string> BodyMethods = ["POST", "PUT", "PATCH"];

    // Kept as compact JSON text and parsed per rendering: a parsed JsonNode fills itself in lazily, so one shared
    // between concurrent renderings would not be safe to read.
    private readonly string _inputSchema;
    private readonly string? _outputSchema;
    private readonly string _exampleQuery;
    private readonly string _exampleBody;

    private BazaarExtension(JsonObject inputSchema, JsonObject? outputSchema, JsonObject exampleQuery, JsonObject exampleBody)
    {
        _inputSchema = inputSchema.ToJsonString();
        _outputSchema = outputSchema?.ToJsonString();
        _exampleQuery = exampleQuery.ToJsonString();
        _exampleBody = exampleBody.ToJsonString();
    }

    /// <summary>The link's extension, or null when it is not listed: only a listed link is shown anywhere public.</summary>
    public static BazaarExtension? For(PaidLink link)
    {
        var listing = link.Listing;
        if (!listing.Listed)
        {
            return null;
        }
        // The reference's default input schema when none is declared: an object of any properties.
        var input = Embeddable(listing.InputSchema) ?? new JsonObject { ["properties"] = new JsonObject() };
        var output = Embeddable(listing.OutputSchema);
        return new BazaarExtension(input, output, ExampleRequest.Query(listing.ExampleRequest, input), ExampleRequest.Body(listing.ExampleRequest))
        {
            ServiceName = link.Name is { } name && IsServiceText(name) ? name : null,
            Tags = listing.Tags.Where(IsServiceText).Distinct(StringComparer.OrdinalIgnoreCase).Take(MaxTags).ToList(),
        };
    }

    /// <summary>
    /// The PaymentRequired `resource.serviceName`, when the link's name meets the spec's rule (facilitators drop it
    /// otherwise, so it is left out rather than sent to be dropped).
    /// </summary>
    public string? ServiceName { get; private init; }

    /// <summary>The `resource.tags`: the listing's tags that meet the spec's rule, at most five.</summary>
    public IReadOnlyList<string> Tags { get; private init; } = [];

    /// <summary>Adds the service metadata to a PaymentRequired `resource` object.</summary>
    public void Describe(JsonObject resource)
    {
        if (ServiceName is not null)
        {
            resource["serviceName"] = ServiceName;
        }
        if (Tags.Count > 0)
        {
            resource["tags"] = new JsonArray(Tags.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());
        }
    }

    // The Bazaar spec's rule for serviceName and each tag: 1-32 printable ASCII characters.
    private static bool IsServiceText(string value) =>
        value.Length is > 0 and <= MaxServiceText && value.All(c => c is >= ' ' and <= '~');

    /// <summary>The method discovery items describe: the link's first, or GET when it takes any.</summary>
    public static string DiscoveryMethod(PaidLink link) => link.Methods.Count == 0 ? "GET" : link.Methods[0];

    /// <summary>`extensions.bazaar` for a request of this method, or null for a method Bazaar has no shape for (OPTIONS).</summary>
    public JsonObject? Declare(string method)
    {
        method = method.ToUpperInvariant();
        var query = QueryMethods.Contains(method);
        if (!query && !BodyMethods.Contains(method))
        {
            return null;
        }
        var infoInput = new JsonObject { ["type"] = "http", ["method"] = method };
        var inputProperties = new JsonObject
        {
            ["type"] = new JsonObject { ["type"] = "string", ["const"] = "http" },
            ["method"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(method) },
        };
        JsonArray required;
        if (query)
        {
            infoInput["queryParams"] = Parse(_exampleQuery);
            inputProperties["queryParams"] = ObjectSchema(Parse(_inputSchema));
            required = new JsonArray("type", "method");
        }
        else
        {
            infoInput["bodyType"] = "json";
            infoInput["body"] = Parse(_exampleBody);
            inputProperties["bodyType"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("json", "form-data", "text") };
            inputProperties["body"] = Parse(_inputSchema);
            required = new JsonArray("type", "method", "bodyType", "body");
        }
        var info = new JsonObject { ["input"] = infoInput };
        var schemaProperties = new JsonObject
        {
            ["input"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = inputProperties,
                ["required"] = required,
                ["additionalProperties"] = false,
            },
        };
        if (_outputSchema is not null)
        {
            // No example response is listed, so `output` says JSON and its schema describes the example it would be.
            info["output"] = new JsonObject { ["type"] = "json" };
            schemaProperties["output"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    ["type"] = new JsonObject { ["type"] = "string" },
                    ["example"] = ObjectSchema(Parse(_outputSchema)),
                },
                ["required"] = new JsonArray("type"),
            };
        }
        return new JsonObject
        {
            ["info"] = info,
            ["schema"] = new JsonObject
            {
                ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
                ["type"] = "object",
                ["properties"] = schemaProperties,
                ["required"] = new JsonArray("input"),
            },
        };
    }

    /// <summary>
    /// The v1 form, PaymentRequirements.outputSchema, as v1 servers wrote it and extractDiscoveryInfoV1 reads it:
    /// input fields as a map of field name to definition (the input schema's properties), output as the schema.
    /// </summary>
    public JsonObject V1OutputSchema(string method)
    {
        method = method.ToUpperInvariant();
        var fields = Parse(_inputSchema)["properties"] is JsonObject properties ? properties.DeepClone() : new JsonObject();
        var input = new JsonObject { ["type"] = "http", ["method"] = method, ["discoverable"] = true };
        if (BodyMethods.Contains(method))
        {
            input["bodyType"] = "json";
            input["bodyFields"] = fields;
        }
        else
        {
            input["queryParams"] = fields;
        }
        var schema = new JsonObject { ["input"] = input };
        if (_outputSchema is not null)
        {
            schema["output"] = Parse(_outputSchema);
        }
        return schema;
    }

    /// <summary>
    /// A listing schema as a sub-schema: its own $schema and $id are dropped, since it is embedded in a 2020-12
    /// document and the facilitator's validator refuses external ids.
    /// </summary>
    private static JsonObject? Embeddable(string? json)
    {
        if (json is null || JsonNode.Parse(json) is not JsonObject schema)
        {
            return null;
        }
        schema.Remove("$schema");
        schema.Remove("$id");
        return schema;
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    // As the reference does: an object unless the schema says otherwise.
    private static JsonObject ObjectSchema(JsonObject schema)
    {
        var merged = new JsonObject { ["type"] = "object" };
        foreach (var (name, value) in schema)
        {
            merged[name] = value?.DeepClone();
        }
        return merged;
    }

    /// <summary>Example values taken from the listing's free-text example request ("GET /today?city=Oslo", "POST /x {...}").</summary>
    private static class ExampleRequest
    {
        /// <summary>The query of the example's URL; each value typed as the input schema declares it (query strings are text).</summary>
        public static JsonObject Query(string? example, JsonObject inputSchema)
        {
            var result = new JsonObject();
            var target = example?.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(t => t.Contains('?', StringComparison.Ordinal));
            if (target is null)
            {
                return result;
            }
            var properties = inputSchema["properties"] as JsonObject;
            foreach (var pair in target[(target.IndexOf('?', StringComparison.Ordinal) + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var at = pair.IndexOf('=', StringComparison.Ordinal);
                var name = Uri.UnescapeDataString((at < 0 ? pair : pair[..at]).Replace('+', ' '));
                var value = at < 0 ? "" : Uri.UnescapeDataString(pair[(at + 1)..].Replace('+', ' '));
                result[name] = Typed(value, (properties?[name] as JsonObject)?["type"]?.GetValueKind() == JsonValueKind.String
                    ? properties![name]!["type"]!.GetValue<string>()
                    : null);
            }
            return result;
        }

        /// <summary>The JSON object in the example (from its first '{'), or an empty body when there is none.</summary>
        public static JsonObject Body(string? example)
        {
            var at = example?.IndexOf('{', StringComparison.Ordinal) ?? -1;
            if (at < 0)
            {
                return new JsonObject();
            }
            try
            {
                return JsonNode.Parse(example![at..]) as JsonObject ?? new JsonObject();
            }
            catch (JsonException)
            {
                return new JsonObject();
            }
        }

        private static JsonNode? Typed(string value, string? type) => type switch
        {
            "integer" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) => i,
            "number" when decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            "boolean" when bool.TryParse(value, out var b) => b,
            _ => value,
        };
    }
}

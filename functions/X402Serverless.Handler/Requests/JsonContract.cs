using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using X402Serverless.Core.Json;
using X402Serverless.Core.Links;

namespace X402Serverless.Handler.Requests;

/// <summary>
/// Reads a request body into its typed contract (<see cref="ApiJson"/>) after <see cref="StrictJson"/> has checked it.
/// Unknown fields are all named at once; a value of the wrong JSON type names its field. Either way the caller gets
/// <see cref="ValidationError"/>s, the same shape as every other validation problem.
/// </summary>
internal static class JsonContract
{
    public const string UnknownFieldCode = "unknown_field";
    public const string InvalidTypeCode = "invalid_type";

    public static async Task<(T? Value, List<ValidationError> Errors)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> contract, CancellationToken cancellationToken)
        where T : class
    {
        if (await JsonBody.ReadObjectAsync(request, cancellationToken) is not { } root)
        {
            return (null, [new("body", JsonBody.InvalidCode, "The body must be a well-formed JSON object.")]);
        }
        return Read(root, contract);
    }

    public static (T? Value, List<ValidationError> Errors) Read<T>(JsonElement root, JsonTypeInfo<T> contract)
        where T : class
    {
        // Only what a request may set: computed, read-only members of the contract are not fields of the request.
        var known = contract.Properties.Where(p => p.Set is not null).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var errors = root.EnumerateObject()
            .Where(p => !known.Contains(p.Name))
            .Select(p => new ValidationError(p.Name, UnknownFieldCode,
                $"'{p.Name}' is not a field of this request (names are case-sensitive); known fields: {string.Join(", ", known.Order(StringComparer.Ordinal))}."))
            .ToList();
        // A JSON Schema may hold nulls ("default": null, "enum": [null, …]); only the contract's typed fields may not.
        var free = contract.Properties.Where(p => p.PropertyType == typeof(Core.Json.Patch<JsonElement>) || p.PropertyType == typeof(JsonElement?))
            .Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        errors.AddRange(NullsInside(root).Where(e => !free.Contains(e.Field)));
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        try
        {
            return (root.Deserialize(contract), []);
        }
        catch (JsonException e)
        {
            var field = FieldOf(e.Path);
            return (null, [new(field, field.Contains('.') || field.Contains('[') ? NestedCode(e) : InvalidTypeCode,
                $"{field} has the wrong JSON type or an unknown field; see the API reference for this request's shape.")]);
        }
    }

    // A null at the top level means "absent" (or "clear"); as an element of a top-level list or a value of a top-level
    // map it is a wrong type, which the serializer would let through as a null element.
    private static IEnumerable<ValidationError> NullsInside(JsonElement root)
    {
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            var hasNull = value.ValueKind switch
            {
                JsonValueKind.Array => value.EnumerateArray().Any(e => e.ValueKind == JsonValueKind.Null),
                JsonValueKind.Object => value.EnumerateObject().Any(p => p.Value.ValueKind == JsonValueKind.Null),
                _ => false,
            };
            if (hasNull)
            {
                yield return new(property.Name, InvalidTypeCode, $"{property.Name} may not hold null values.");
            }
        }
    }

    // "$.priceRules[0].price" → "priceRules[0].price"; "$" → "body".
    private static string FieldOf(string? path) =>
        path is null or "$" ? "body" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    // Inside a nested object, the serializer refuses unknown members and wrong types alike; its message tells which.
    private static string NestedCode(JsonException e) =>
        e.Message.Contains("could not be mapped", StringComparison.Ordinal) ? UnknownFieldCode : InvalidTypeCode;
}

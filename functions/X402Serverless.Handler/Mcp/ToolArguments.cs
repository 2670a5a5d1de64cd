using System.Text.Json;
using X402Serverless.Core.Links;

namespace X402Serverless.Handler.Mcp;

/// <summary>
/// A tool call's arguments read as a closed contract, like the management API's bodies: an argument the tool does not
/// know or a value of the wrong JSON kind is named in a <see cref="ValidationError"/>, all of them at once.
/// </summary>
internal sealed class ToolArguments
{
    public const string UnknownCode = "unknown_field";
    public const string InvalidTypeCode = "invalid_type";
    public const string RequiredCode = "required";

    private readonly IDictionary<string, JsonElement> _values;

    private ToolArguments(IDictionary<string, JsonElement> values) => _values = values;

    public List<ValidationError> Errors { get; } = [];

    /// <summary>The arguments, with every name outside <paramref name="known"/> already reported.</summary>
    public static ToolArguments Read(IDictionary<string, JsonElement>? values, IReadOnlyCollection<string> known)
    {
        var arguments = new ToolArguments(values ?? new Dictionary<string, JsonElement>());
        foreach (var name in arguments._values.Keys.Where(k => !known.Contains(k)).Order(StringComparer.Ordinal))
        {
            arguments.Errors.Add(new(name, UnknownCode,
                $"'{name}' is not an argument of this tool (names are case-sensitive); known: {string.Join(", ", known)}."));
        }
        return arguments;
    }

    /// <summary>A string argument, trimmed; null when absent (or JSON null) unless required.</summary>
    public string? String(string name, int maxLength, bool required = false)
    {
        if (!_values.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Errors.Add(new(name, RequiredCode, $"'{name}' is required."));
            }
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            Errors.Add(new(name, InvalidTypeCode, $"'{name}' must be a string."));
            return null;
        }
        var text = value.GetString()!.Trim();
        if (text.Length > maxLength)
        {
            Errors.Add(new(name, $"invalid_{name}", $"'{name}' is at most {maxLength} characters."));
            return null;
        }
        if (text.Any(char.IsControl))
        {
            Errors.Add(new(name, $"invalid_{name}", $"'{name}' must not contain control characters."));
            return null;
        }
        if (text.Length == 0)
        {
            if (required)
            {
                Errors.Add(new(name, RequiredCode, $"'{name}' must not be empty."));
            }
            return null;
        }
        return text;
    }

    /// <summary>A whole number within [min, max]; <paramref name="fallback"/> when absent.</summary>
    public int Integer(string name, int fallback, int min, int max)
    {
        if (!_values.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
        {
            Errors.Add(new(name, value.ValueKind == JsonValueKind.Number ? $"invalid_{name}" : InvalidTypeCode, $"'{name}' is a whole number from {min} to {max}."));
            return fallback;
        }
        if (number < min || number > max)
        {
            Errors.Add(new(name, $"invalid_{name}", $"'{name}' is a whole number from {min} to {max}."));
            return fallback;
        }
        return number;
    }

    /// <summary>Any JSON value, as sent; null when absent.</summary>
    public JsonElement? Any(string name) =>
        _values.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public void Add(string field, string code, string message) => Errors.Add(new(field, code, message));
}

using System.Text.Json;
using X402Serverless.Core.Json;

namespace X402Serverless.Handler.Functions;

/// <summary>
/// The Functions host's custom-handler invocation body, {"Data":{...},"Metadata":{...}}. Plain strings arrive
/// JSON-encoded a second time (the host serialises them before embedding), so a binding value is unwrapped
/// until it is the message itself.
/// </summary>
internal static class InvocationRequest
{
    public static async Task<JsonElement?> ReadBindingAsync(HttpRequest request, string binding, CancellationToken cancellationToken)
    {
        var (ok, root) = await StrictJson.TryParseAsync(request.Body, cancellationToken);
        if (!ok)
        {
            return null;
        }
        if (root.ValueKind != JsonValueKind.Object || !TryGetCaseInsensitive(root, "Data", out var data) || data.ValueKind != JsonValueKind.Object
            || !TryGetCaseInsensitive(data, binding, out var value))
        {
            return null;
        }
        // A string may hold JSON, possibly encoded twice: unwrap at most twice.
        for (var i = 0; i < 2 && value.ValueKind == JsonValueKind.String; i++)
        {
            if (!StrictJson.TryParse(value.GetString()!, out value))
            {
                return null;
            }
        }
        return value;
    }

    private static bool TryGetCaseInsensitive(JsonElement obj, string name, out JsonElement value)
    {
        foreach (var p in obj.EnumerateObject())
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = p.Value;
                return true;
            }
        }
        value = default;
        return false;
    }
}

using System.Text.Json;

namespace X402Serverless.Core.Inbox;

/// <summary>The stored form of <see cref="InboxSettings"/> (one column or property beside the link's other fields).</summary>
public static class InboxJson
{
    public static string? Write(InboxSettings? inbox) => inbox is null ? null : JsonSerializer.Serialize(inbox, JsonSerializerOptions.Web);

    public static InboxSettings? Read(string? json) => string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize<InboxSettings>(json, JsonSerializerOptions.Web);
}

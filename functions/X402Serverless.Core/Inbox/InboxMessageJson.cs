using System.Text.Json;

namespace X402Serverless.Core.Inbox;

/// <summary>A message's stored form: one JSON document, beside the few fields the stores query and compare on.</summary>
public static class InboxMessageJson
{
    public static string Write(InboxMessage message) => JsonSerializer.Serialize(message, JsonSerializerOptions.Web);

    public static InboxMessage Read(string json) =>
        JsonSerializer.Deserialize<InboxMessage>(json, JsonSerializerOptions.Web) ?? throw new InvalidDataException("Empty inbox message.");
}

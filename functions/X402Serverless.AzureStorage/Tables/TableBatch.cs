using System.Text.Json.Nodes;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>One operation of an entity group transaction (all in one partition, all or nothing).</summary>
public sealed record TableBatchOperation(string Method, JsonObject Entity, string? IfMatch)
{
    public static TableBatchOperation Insert(JsonObject entity) => new("POST", entity, null);

    public static TableBatchOperation Replace(JsonObject entity, string ifMatch) => new("PUT", entity, ifMatch);

    public static TableBatchOperation Delete(JsonObject keys, string ifMatch) => new("DELETE", keys, ifMatch);
}

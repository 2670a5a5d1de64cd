using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>
/// A thin Table Storage REST client on Azure.Core's HttpPipeline (retries on transient failures only, auth policy,
/// telemetry). Entities are JSON objects with PartitionKey and RowKey; optimistic concurrency by ETag.
/// </summary>
public sealed class TableClient
{
    private const string ServiceVersion = "2019-02-02";
    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;

    private TableClient(HttpPipeline pipeline, Uri endpoint)
    {
        _pipeline = pipeline;
        _endpoint = new Uri(endpoint.ToString().TrimEnd('/') + "/");
    }

    /// <summary>For Azurite: account name and key (SharedKeyLite).</summary>
    public static TableClient WithSharedKey(Uri endpoint, string accountName, string accountKey) =>
        new(HttpPipelineBuilder.Build(new AzureClientOptions(), new SharedKeyLitePolicy(accountName, Convert.FromBase64String(accountKey))), endpoint);

    /// <summary>In Azure: a managed identity's Entra ID token for the storage audience.</summary>
    public static TableClient WithCredential(Uri endpoint, TokenCredential credential) =>
        new(HttpPipelineBuilder.Build(new AzureClientOptions(), new BearerTokenAuthenticationPolicy(credential, "https://storage.azure.com/.default")), endpoint);

    public async Task CreateTableIfMissingAsync(string table, CancellationToken cancellationToken)
    {
        using var message = Message(RequestMethod.Post, "Tables", new JsonObject { ["TableName"] = table });
        await _pipeline.SendAsync(message, cancellationToken);
        var status = message.Response.Status;
        if (status is not (201 or 204 or 409))
        {
            throw Error(message.Response);
        }
    }

    /// <summary>Inserts; throws <see cref="TableException"/> with IsConflict when the entity exists.</summary>
    public async Task<string> InsertAsync(string table, JsonObject entity, CancellationToken cancellationToken)
    {
        using var message = Message(RequestMethod.Post, table, entity);
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        await _pipeline.SendAsync(message, cancellationToken);
        return message.Response.Status is 201 or 204 ? ETag(message.Response) : throw Error(message.Response);
    }

    /// <summary>The entity and its ETag, or null when missing.</summary>
    public async Task<(JsonObject Entity, string ETag)?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        using var message = Message(RequestMethod.Get, EntityPath(table, partitionKey, rowKey), null);
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.Status == 404)
        {
            return null;
        }
        if (message.Response.Status != 200)
        {
            throw Error(message.Response);
        }
        return (JsonNode.Parse(message.Response.Content.ToString())!.AsObject(), ETag(message.Response));
    }

    /// <summary>Replaces the entity if its ETag still matches (or "*" for any); throws IsPreconditionFailed otherwise.</summary>
    public async Task<string> ReplaceAsync(string table, JsonObject entity, string ifMatch, CancellationToken cancellationToken)
    {
        using var message = Message(RequestMethod.Put, EntityPath(table, (string)entity["PartitionKey"]!, (string)entity["RowKey"]!), entity);
        message.Request.Headers.SetValue("If-Match", ifMatch);
        await _pipeline.SendAsync(message, cancellationToken);
        return message.Response.Status == 204 ? ETag(message.Response) : throw Error(message.Response);
    }

    /// <summary>Insert-or-replace (a PUT without If-Match): for values where the last writer wins by design.</summary>
    public async Task UpsertAsync(string table, JsonObject entity, CancellationToken cancellationToken)
    {
        using var message = Message(RequestMethod.Put, EntityPath(table, (string)entity["PartitionKey"]!, (string)entity["RowKey"]!), entity);
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.Status != 204)
        {
            throw Error(message.Response);
        }
    }

    /// <summary>Deletes; false when it was not there.</summary>
    public async Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, string ifMatch, CancellationToken cancellationToken)
    {
        using var message = Message(RequestMethod.Delete, EntityPath(table, partitionKey, rowKey), null);
        message.Request.Headers.SetValue("If-Match", ifMatch);
        await _pipeline.SendAsync(message, cancellationToken);
        return message.Response.Status switch
        {
            204 => true,
            404 => false,
            _ => throw Error(message.Response),
        };
    }

    /// <summary>Every entity matching an OData filter, following continuation tokens page by page.</summary>
    public async Task<List<JsonObject>> QueryAsync(string table, string filter, int? max, CancellationToken cancellationToken, int pageSize = 1000)
    {
        var results = new List<JsonObject>();
        string? nextPartition = null;
        string? nextRow = null;
        do
        {
            var query = $"$filter={Uri.EscapeDataString(filter)}";
            query += $"&$top={Math.Min(pageSize, max is { } m ? m - results.Count : pageSize)}";
            if (nextPartition is not null)
            {
                query += $"&NextPartitionKey={Uri.EscapeDataString(nextPartition)}";
                if (nextRow is not null)
                {
                    query += $"&NextRowKey={Uri.EscapeDataString(nextRow)}";
                }
            }
            using var message = Message(RequestMethod.Get, $"{table}()?{query}", null);
            await _pipeline.SendAsync(message, cancellationToken);
            if (message.Response.Status != 200)
            {
                throw Error(message.Response);
            }
            var page = JsonNode.Parse(message.Response.Content.ToString())!["value"]!.AsArray();
            results.AddRange(page.Select(e => e!.AsObject().DeepClone().AsObject()));
            nextPartition = message.Response.Headers.TryGetValue("x-ms-continuation-NextPartitionKey", out var p) ? p : null;
            nextRow = message.Response.Headers.TryGetValue("x-ms-continuation-NextRowKey", out var r) ? r : null;
        }
        while (nextPartition is not null && (max is null || results.Count < max));
        return results;
    }

    /// <summary>
    /// An entity group transaction ($batch with one changeset): every operation succeeds or none does. Throws a
    /// <see cref="TableException"/> carrying the failing operation's status and code (409 exists, 412 ETag moved).
    /// </summary>
    public async Task SubmitBatchAsync(string table, IReadOnlyList<TableBatchOperation> operations, CancellationToken cancellationToken)
    {
        var batch = "batch_" + Guid.NewGuid().ToString("N");
        var changeset = "changeset_" + Guid.NewGuid().ToString("N");
        var body = new StringBuilder();
        body.Append("--").Append(batch).Append("\r\n");
        body.Append("Content-Type: multipart/mixed; boundary=").Append(changeset).Append("\r\n\r\n");
        foreach (var op in operations)
        {
            var partitionKey = (string)op.Entity["PartitionKey"]!;
            var rowKey = (string)op.Entity["RowKey"]!;
            var target = op.Method == "POST" ? new Uri(_endpoint, table) : new Uri(_endpoint, EntityPath(table, partitionKey, rowKey));
            body.Append("--").Append(changeset).Append("\r\n");
            body.Append("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n");
            body.Append(op.Method).Append(' ').Append(target.AbsoluteUri).Append(" HTTP/1.1\r\n");
            body.Append("Accept: application/json;odata=nometadata\r\nDataServiceVersion: 3.0\r\n");
            if (op.IfMatch is not null)
            {
                body.Append("If-Match: ").Append(op.IfMatch).Append("\r\n");
            }
            if (op.Method == "DELETE")
            {
                body.Append("\r\n");
            }
            else
            {
                if (op.Method == "POST")
                {
                    body.Append("Prefer: return-no-content\r\n");
                }
                body.Append("Content-Type: application/json\r\n\r\n").Append(op.Entity.ToJsonString()).Append("\r\n");
            }
        }
        body.Append("--").Append(changeset).Append("--\r\n");
        body.Append("--").Append(batch).Append("--\r\n");

        using var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = RequestMethod.Post;
        request.Uri.Reset(new Uri(_endpoint, "$batch"));
        request.Headers.SetValue("x-ms-version", ServiceVersion);
        request.Headers.SetValue("DataServiceVersion", "3.0");
        request.Headers.SetValue("Accept", "application/json;odata=nometadata");
        request.Headers.SetValue("Content-Type", $"multipart/mixed; boundary={batch}");
        request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(body.ToString()));
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.Status != 202)
        {
            throw Error(message.Response);
        }
        // The 202 wraps per-operation answers; a failed changeset answers with the one operation that failed.
        var text = message.Response.Content.ToString();
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(line.AsSpan(9, 3), out var status) && status >= 400)
            {
                string? code = null;
                var codeAt = text.IndexOf("\"code\"", StringComparison.Ordinal);
                if (codeAt >= 0)
                {
                    var start = text.IndexOf('"', text.IndexOf(':', codeAt) + 1) + 1;
                    code = text[start..text.IndexOf('"', start)];
                }
                throw new TableException(status, code, $"Batch refused: {status} {code}.");
            }
        }
    }

    /// <summary>OData string literal: single quotes doubled.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private HttpMessage Message(RequestMethod method, string path, JsonObject? body)
    {
        var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(new Uri(_endpoint, path));
        request.Headers.SetValue("x-ms-version", ServiceVersion);
        request.Headers.SetValue("DataServiceVersion", "3.0");
        request.Headers.SetValue("Accept", "application/json;odata=nometadata");
        if (body is not null)
        {
            request.Headers.SetValue("Content-Type", "application/json");
            request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(body.ToJsonString()));
        }
        return message;
    }

    private static string EntityPath(string table, string partitionKey, string rowKey) =>
        $"{table}(PartitionKey={Uri.EscapeDataString(Literal(partitionKey))},RowKey={Uri.EscapeDataString(Literal(rowKey))})";

    private static string ETag(Response response) => response.Headers.TryGetValue("ETag", out var etag) ? etag! : "";

    private static TableException Error(Response response)
    {
        string? code = null;
        var text = response.Content?.ToString() ?? "";
        try
        {
            code = JsonNode.Parse(text)?["odata.error"]?["code"]?.GetValue<string>();
        }
        catch (JsonException)
        {
            // not JSON: keep the status
        }
        if (code is null && response.Headers.TryGetValue("x-ms-error-code", out var header))
        {
            code = header;
        }
        return new TableException(response.Status, code, $"Table service answered {response.Status} {code}.");
    }
}

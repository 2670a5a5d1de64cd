using Microsoft.Data.Sqlite;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Ports;

namespace X402Serverless.Sqlite;

/// <summary>Webhook endpoints and deliveries: each a JSON document beside the columns the scans and conditional writes use.</summary>
public sealed class SqliteWebhookEndpointStore(SqliteDatabase database) : IWebhookEndpointStore
{
    public async Task CreateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO webhook_endpoints (id, organisation_id, created_at, endpoint) VALUES ($id, $org, $created, $json);";
        command.Parameters.AddWithValue("$id", endpoint.Id);
        command.Parameters.AddWithValue("$org", endpoint.OrganisationId);
        command.Parameters.AddWithValue("$created", SqliteText.Time(endpoint.CreatedAt));
        command.Parameters.AddWithValue("$json", WebhookJson.Write(endpoint));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<WebhookEndpoint?> GetAsync(string organisationId, string id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT endpoint FROM webhook_endpoints WHERE id = $id AND organisation_id = $org;";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$org", organisationId);
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? WebhookJson.ReadEndpoint(json) : null;
    }

    public async Task<IReadOnlyList<WebhookEndpoint>> ListAsync(string organisationId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT endpoint FROM webhook_endpoints WHERE organisation_id = $org ORDER BY created_at, id;";
        command.Parameters.AddWithValue("$org", organisationId);
        var list = new List<WebhookEndpoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(WebhookJson.ReadEndpoint(reader.GetString(0)));
        }
        return list;
    }

    public async Task<bool> UpdateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE webhook_endpoints SET endpoint = $json WHERE id = $id AND organisation_id = $org;";
        command.Parameters.AddWithValue("$id", endpoint.Id);
        command.Parameters.AddWithValue("$org", endpoint.OrganisationId);
        command.Parameters.AddWithValue("$json", WebhookJson.Write(endpoint));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<bool> DeleteAsync(string organisationId, string id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM webhook_endpoints WHERE id = $id AND organisation_id = $org;";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$org", organisationId);
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            return false;
        }
        await using var deliveries = connection.CreateCommand();
        deliveries.Transaction = transaction;
        deliveries.CommandText = "DELETE FROM webhook_deliveries WHERE endpoint_id = $id;";
        deliveries.Parameters.AddWithValue("$id", id);
        await deliveries.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<WebhookEvent> AddEventAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        // One statement: an insert that finds the id taken changes nothing, and the row read back is the first raise's.
        command.CommandText = """
            INSERT INTO webhook_events (id, organisation_id, event_type, created_at, payload) VALUES ($id, $org, $type, $created, $payload)
            ON CONFLICT(id) DO NOTHING;
            SELECT organisation_id, event_type, created_at, payload FROM webhook_events WHERE id = $id;
            """;
        command.Parameters.AddWithValue("$id", webhookEvent.Id);
        command.Parameters.AddWithValue("$org", webhookEvent.OrganisationId);
        command.Parameters.AddWithValue("$type", webhookEvent.Type);
        command.Parameters.AddWithValue("$created", SqliteText.Time(webhookEvent.CreatedAt));
        command.Parameters.AddWithValue("$payload", webhookEvent.Payload);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException($"Webhook event {webhookEvent.Id} was neither stored nor found.");
        }
        return new WebhookEvent(webhookEvent.Id, reader.GetString(0), reader.GetString(1), reader.GetString(3), SqliteText.Time(reader.GetString(2)));
    }

    public async Task AddDeliveriesAsync(IReadOnlyList<WebhookDelivery> deliveries, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        foreach (var delivery in deliveries)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at, delivery)
                VALUES ($id, $endpoint, $event, $status, $attempts, $next, $created, $json)
                ON CONFLICT(id) DO NOTHING;
                """;
            Bind(command, delivery);
            command.Parameters.AddWithValue("$endpoint", delivery.EndpointId);
            command.Parameters.AddWithValue("$event", delivery.EventId);
            command.Parameters.AddWithValue("$created", SqliteText.Time(delivery.CreatedAt));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<WebhookDelivery?> GetDeliveryAsync(string endpointId, string id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT delivery FROM webhook_deliveries WHERE id = $id AND endpoint_id = $endpoint;";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$endpoint", endpointId);
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? WebhookJson.ReadDelivery(json) : null;
    }

    public async Task<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string endpointId, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT delivery FROM webhook_deliveries WHERE endpoint_id = $endpoint ORDER BY created_at DESC, id DESC LIMIT $max;";
        command.Parameters.AddWithValue("$endpoint", endpointId);
        command.Parameters.AddWithValue("$max", max);
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<bool> TryUpdateDeliveryAsync(WebhookDelivery updated, string expectedStatus, int expectedAttempts, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE webhook_deliveries SET status = $status, attempts = $attempts, next_attempt_at = $next, delivery = $json
            WHERE id = $id AND status = $expectedStatus AND attempts = $expectedAttempts;
            """;
        Bind(command, updated);
        command.Parameters.AddWithValue("$expectedStatus", expectedStatus);
        command.Parameters.AddWithValue("$expectedAttempts", expectedAttempts);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<WebhookDelivery>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT delivery FROM webhook_deliveries
            WHERE status IN ('pending', 'sending') AND next_attempt_at <= $now
            ORDER BY next_attempt_at LIMIT $max;
            """;
        command.Parameters.AddWithValue("$now", SqliteText.Time(now));
        command.Parameters.AddWithValue("$max", max);
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<WebhookPurge> PurgeAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        // An ended delivery's next_attempt_at is when it ended (a redelivery makes it pending again, so it is not taken).
        var deliveries = await ExecuteAsync(connection, transaction, """
            DELETE FROM webhook_deliveries WHERE id IN (
                SELECT id FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND next_attempt_at < $before
                ORDER BY next_attempt_at LIMIT $max);
            """, before, max, cancellationToken);
        var events = await ExecuteAsync(connection, transaction, """
            DELETE FROM webhook_events WHERE id IN (
                SELECT e.id FROM webhook_events e
                WHERE e.created_at < $before AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
                ORDER BY e.created_at LIMIT $max);
            """, before, max, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new WebhookPurge(deliveries, events);
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, SqliteTransaction transaction, string sql, DateTimeOffset before, int max,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$before", SqliteText.Time(before));
        command.Parameters.AddWithValue("$max", max);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<IReadOnlyList<WebhookDelivery>> ReadAllAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<WebhookDelivery>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(WebhookJson.ReadDelivery(reader.GetString(0)));
        }
        return list;
    }

    private static void Bind(SqliteCommand command, WebhookDelivery delivery)
    {
        command.Parameters.AddWithValue("$id", delivery.Id);
        command.Parameters.AddWithValue("$status", delivery.Status);
        command.Parameters.AddWithValue("$attempts", delivery.Attempts);
        command.Parameters.AddWithValue("$next", SqliteText.Time(delivery.NextAttemptAt));
        command.Parameters.AddWithValue("$json", WebhookJson.Write(delivery));
    }
}

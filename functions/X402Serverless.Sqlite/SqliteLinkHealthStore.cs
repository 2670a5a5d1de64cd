using X402Serverless.Core.Health;
using X402Serverless.Core.Ports;

namespace X402Serverless.Sqlite;

public sealed class SqliteLinkHealthStore(SqliteDatabase database) : ILinkHealthStore
{
    // A pass's results are one write through the database's one writer: one savepoint, not one transaction per link.
    public Task SaveAsync(IReadOnlyList<LinkHealth> records, CancellationToken cancellationToken) =>
        database.Writes.WriteAsync(write =>
        {
            foreach (var h in records)
            {
                write.Execute("""
                    INSERT OR REPLACE INTO link_health (link_id, organisation_id, up, checked_at, status, failure, consecutive_failures, last_up_at)
                    VALUES ($link, $org, $up, $checked, $status, $failure, $failures, $lastUp);
                    """,
                    ("$link", h.LinkId), ("$org", h.OrganisationId), ("$up", h.Up ? 1 : 0), ("$checked", SqliteText.Time(h.CheckedAt)),
                    ("$status", (object?)h.Status ?? DBNull.Value), ("$failure", (object?)h.Failure ?? DBNull.Value),
                    ("$failures", h.ConsecutiveFailures), ("$lastUp", h.LastUpAt is { } up ? SqliteText.Time(up) : DBNull.Value));
            }
            return records.Count;
        }, cancellationToken);

    public async Task<IReadOnlyList<LinkHealth>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT link_id, organisation_id, up, checked_at, status, failure, consecutive_failures, last_up_at FROM link_health;";
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<LinkHealth>();
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add(new LinkHealth
            {
                LinkId = r.GetString(0),
                OrganisationId = r.GetString(1),
                Up = r.GetInt64(2) != 0,
                CheckedAt = SqliteText.Time(r.GetString(3)),
                Status = r.IsDBNull(4) ? null : r.GetInt32(4),
                Failure = r.IsDBNull(5) ? null : r.GetString(5),
                ConsecutiveFailures = r.GetInt32(6),
                LastUpAt = r.IsDBNull(7) ? null : SqliteText.Time(r.GetString(7)),
            });
        }
        return list;
    }

    public Task DeleteAsync(IReadOnlyList<string> linkIds, CancellationToken cancellationToken) =>
        linkIds.Count == 0
            ? Task.CompletedTask
            : database.Writes.WriteAsync(write =>
            {
                foreach (var id in linkIds)
                {
                    write.Execute("DELETE FROM link_health WHERE link_id = $link;", ("$link", id));
                }
                return linkIds.Count;
            }, cancellationToken);
}

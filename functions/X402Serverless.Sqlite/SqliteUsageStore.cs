using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;

namespace X402Serverless.Sqlite;

public sealed class SqliteUsageStore(SqliteDatabase database) : IUsageStore
{
    // Through the database's one writer: a flush of counts is one savepoint in whatever batch it joins, all or nothing.
    public Task AddAsync(IReadOnlyList<UsageCount> counts, CancellationToken cancellationToken) =>
        database.Writes.WriteAsync(write =>
        {
            foreach (var c in counts)
            {
                write.Execute("""
                    INSERT INTO usage_daily (organisation_id, link_id, day, kind, count) VALUES ($org, $link, $day, $kind, $n)
                    ON CONFLICT(organisation_id, link_id, day, kind) DO UPDATE SET count = count + excluded.count;
                    """, ("$org", c.OrganisationId), ("$link", c.LinkId), ("$day", c.Day), ("$kind", c.Kind), ("$n", c.Count));
            }
            return counts.Count;
        }, cancellationToken);

    public async Task<IReadOnlyList<UsageCount>> ListAsync(string organisationId, string fromDay, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT link_id, day, kind, count FROM usage_daily WHERE organisation_id = $org AND day >= $from ORDER BY day, link_id, kind;";
        command.Parameters.AddWithValue("$org", organisationId);
        command.Parameters.AddWithValue("$from", fromDay);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<UsageCount>();
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add(new UsageCount(organisationId, r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3)));
        }
        return list;
    }
}

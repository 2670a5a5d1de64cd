using Microsoft.Data.Sqlite;
using X402Serverless.Core.Links;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;

namespace X402Serverless.Sqlite;

public sealed class SqliteLinkStore(SqliteDatabase database) : ILinkStore
{
    private const string Columns =
        "id, organisation_id, name, description, upstream, price, pay_to, networks, methods, sealed_upstream_headers, created_at, updated_at, settlement, facilitator, verify_on_chain, accepts, charge_on, daily_cap_per_payer, kyc_level, kyc_countries, deferred_payers, price_rules, listing, rate_limit, payment_identifier_required, inbox, pass, disabled, permit2_networks";

    public async Task CreateAsync(PaidLink link, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO links ({Columns}, listed) VALUES ($id, $org, $name, $description, $upstream, $price, $payTo, $networks, $methods, $headers, $created, $updated, $settlement, $facilitator, $verifyOnChain, $accepts, $chargeOn, $dailyCap, $kycLevel, $kycCountries, $deferredPayers, $priceRules, $listing, $rateLimit, $paymentIdentifierRequired, $inbox, $pass, $disabled, $permit2Networks, $listed);";
        Bind(command, link);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<PaidLink?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM links WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<PaidLink>> ListAsync(string organisationId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM links WHERE organisation_id = $org ORDER BY created_at, id;";
        command.Parameters.AddWithValue("$org", organisationId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var links = new List<PaidLink>();
        while (await reader.ReadAsync(cancellationToken))
        {
            links.Add(Read(reader));
        }
        return links;
    }

    public async Task<IReadOnlyList<PaidLink>> ListListedAsync(CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM links WHERE listed = 1 ORDER BY created_at, id;";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var links = new List<PaidLink>();
        while (await reader.ReadAsync(cancellationToken))
        {
            links.Add(Read(reader));
        }
        return links;
    }

    public async Task<bool> UpdateAsync(PaidLink link, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE links SET name = $name, description = $description, upstream = $upstream, price = $price, pay_to = $payTo,
                networks = $networks, methods = $methods, sealed_upstream_headers = $headers, updated_at = $updated,
                settlement = $settlement, facilitator = $facilitator, verify_on_chain = $verifyOnChain, accepts = $accepts, charge_on = $chargeOn, daily_cap_per_payer = $dailyCap, kyc_level = $kycLevel, kyc_countries = $kycCountries, deferred_payers = $deferredPayers, price_rules = $priceRules,
                listing = $listing, listed = $listed, rate_limit = $rateLimit, payment_identifier_required = $paymentIdentifierRequired, inbox = $inbox, pass = $pass, disabled = $disabled, permit2_networks = $permit2Networks
            WHERE id = $id AND organisation_id = $org;
            """;
        Bind(command, link);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<bool> DeleteAsync(string organisationId, string id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM links WHERE id = $id AND organisation_id = $org;";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$org", organisationId);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static void Bind(SqliteCommand command, PaidLink link)
    {
        command.Parameters.AddWithValue("$id", link.Id);
        command.Parameters.AddWithValue("$org", link.OrganisationId);
        command.Parameters.AddWithValue("$name", (object?)link.Name ?? DBNull.Value);
        command.Parameters.AddWithValue("$description", (object?)link.Description ?? DBNull.Value);
        command.Parameters.AddWithValue("$upstream", link.Upstream);
        command.Parameters.AddWithValue("$price", link.Price.ToString());
        command.Parameters.AddWithValue("$payTo", link.PayTo);
        command.Parameters.AddWithValue("$networks", SqliteText.List(link.Networks));
        command.Parameters.AddWithValue("$methods", SqliteText.List(link.Methods));
        command.Parameters.AddWithValue("$headers", (object?)link.SealedUpstreamHeaders ?? DBNull.Value);
        command.Parameters.AddWithValue("$created", SqliteText.Time(link.CreatedAt));
        command.Parameters.AddWithValue("$updated", SqliteText.Time(link.UpdatedAt));
        command.Parameters.AddWithValue("$settlement", link.Settlement);
        command.Parameters.AddWithValue("$deferredPayers", link.DeferredPayers);
        command.Parameters.AddWithValue("$priceRules", PriceRulesJson.Write(link.PriceRules));
        command.Parameters.AddWithValue("$facilitator", (object?)link.Facilitator ?? DBNull.Value);
        command.Parameters.AddWithValue("$verifyOnChain", link.VerifyOnChain ? 1 : 0);
        command.Parameters.AddWithValue("$accepts", SqliteText.List(link.Accepts));
        command.Parameters.AddWithValue("$chargeOn", link.ChargeOn);
        command.Parameters.AddWithValue("$dailyCap", (object?)link.DailyCapPerPayer?.Micros ?? DBNull.Value);
        command.Parameters.AddWithValue("$kycLevel", link.KycLevel);
        command.Parameters.AddWithValue("$kycCountries", SqliteText.List(link.KycCountries));
        command.Parameters.AddWithValue("$listing", (object?)LinkListingJson.Write(link.Listing) ?? DBNull.Value);
        command.Parameters.AddWithValue("$rateLimit", (object?)RateLimitJson.Write(link.RateLimit) ?? DBNull.Value);
        // The catalogue's query reads this column: a disabled link is not listed while it is off.
        command.Parameters.AddWithValue("$listed", link.Public ? 1 : 0);
        command.Parameters.AddWithValue("$disabled", link.Disabled ? 1 : 0);
        command.Parameters.AddWithValue("$permit2Networks", SqliteText.List(link.Permit2Networks));
        command.Parameters.AddWithValue("$paymentIdentifierRequired", link.PaymentIdentifierRequired ? 1 : 0);
        command.Parameters.AddWithValue("$inbox", (object?)Core.Inbox.InboxJson.Write(link.Inbox) ?? DBNull.Value);
        command.Parameters.AddWithValue("$pass", (object?)Core.Passes.PassOfferJson.Write(link.Pass) ?? DBNull.Value);
    }

    private static PaidLink Read(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        OrganisationId = r.GetString(1),
        Name = r.IsDBNull(2) ? null : r.GetString(2),
        Description = r.IsDBNull(3) ? null : r.GetString(3),
        Upstream = r.GetString(4),
        Price = Usd.Parse(r.GetString(5)),
        PayTo = r.GetString(6),
        Networks = SqliteText.List(r.GetString(7)),
        Methods = SqliteText.List(r.GetString(8)),
        SealedUpstreamHeaders = r.IsDBNull(9) ? null : r.GetString(9),
        CreatedAt = SqliteText.Time(r.GetString(10)),
        UpdatedAt = SqliteText.Time(r.GetString(11)),
        Settlement = r.GetString(12),
        Facilitator = r.IsDBNull(13) ? null : r.GetString(13),
        VerifyOnChain = r.GetInt64(14) == 1,
        Accepts = SqliteText.List(r.GetString(15)),
        ChargeOn = r.GetString(16),
        DailyCapPerPayer = r.IsDBNull(17) ? null : Usd.FromMicros(r.GetInt64(17)),
        KycLevel = r.GetString(18),
        KycCountries = SqliteText.List(r.GetString(19)),
        DeferredPayers = r.GetString(20),
        PriceRules = PriceRulesJson.Read(r.GetString(21)),
        Listing = LinkListingJson.Read(r.IsDBNull(22) ? null : r.GetString(22)),
        RateLimit = RateLimitJson.Read(r.IsDBNull(23) ? null : r.GetString(23)),
        PaymentIdentifierRequired = r.GetInt64(24) == 1,
        Inbox = Core.Inbox.InboxJson.Read(r.IsDBNull(25) ? null : r.GetString(25)),
        Pass = Core.Passes.PassOfferJson.Read(r.IsDBNull(26) ? null : r.GetString(26)),
        Disabled = r.GetInt64(27) == 1,
        Permit2Networks = SqliteText.List(r.GetString(28)),
    };
}

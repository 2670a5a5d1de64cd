using X402Serverless.Core.Links;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Stores;

/// <summary>What every ILinkStore adapter must do, run against each adapter.</summary>
public abstract class LinkStoreContract
{
    /// <summary>A fresh store in which these organisations exist (an adapter may enforce that links have an owner).</summary>
    protected abstract Task<ILinkStore> StoreAsync(params string[] organisations);

    private static PaidLink Link(string org, string? id = null) => new()
    {
        Id = id ?? "lnk_" + Guid.NewGuid().ToString("N")[..10],
        OrganisationId = org,
        Name = "Weather",
        Upstream = "https://api.example.com/w",
        Price = Usd.Parse("0.01"),
        PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
        Networks = ["eip155:8453", "eip155:84532"],
        Permit2Networks = ["eip155:84532"],
        Methods = ["GET"],
        SealedUpstreamHeaders = "sealed-blob",
        Settlement = "deferred",
        Facilitator = "builtin",
        VerifyOnChain = true,
        PaymentIdentifierRequired = true,
        Accepts = ["x402", "credits"],
        ChargeOn = "below-500",
        DailyCapPerPayer = Usd.FromMicros(5_000_000),
        KycLevel = "full",
        KycCountries = ["DE", "NL"],
        PriceRules = [new PriceRule("POST", null, Usd.Parse("0.05")), new PriceRule(null, "/v2/premium", Usd.Parse("1.25"))],
        RateLimit = new LinkRateLimits(new RateLimit(10, 60), null),
        Pass = new X402Serverless.Core.Passes.PassOffer(Usd.Parse("2.50"), 100, 1440),
        Listing = new LinkListing
        {
            Listed = true,
            Tags = ["weather", "forecast"],
            Category = "Data",
            ExampleRequest = "GET /today?city=Oslo",
            InputSchema = """{"type":"object","properties":{"city":{"type":"string","default":null}}}""",
            OutputSchema = """{"type":"object"}""",
        },
        CreatedAt = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero),
        UpdatedAt = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero),
    };

    [Fact]
    public async Task A_created_link_reads_back_field_for_field()
    {
        var store = await StoreAsync("org_a");
        var link = Link("org_a");
        await store.CreateAsync(link, default);
        var read = await store.FindAsync(link.Id, default);
        Assert.NotNull(read);
        Assert.Equal(link with { Networks = read.Networks, Permit2Networks = read.Permit2Networks, Methods = read.Methods, Accepts = read.Accepts, KycCountries = read.KycCountries, PriceRules = read.PriceRules, Listing = read.Listing }, read);
        Assert.True(link.Listing.SameAs(read.Listing));
        Assert.Equal(link.PriceRules, read.PriceRules);
        Assert.Equal(link.KycCountries, read.KycCountries);
        Assert.Equal(link.Networks, read.Networks);
        Assert.Equal(link.Permit2Networks, read.Permit2Networks);
        Assert.Equal(link.Accepts, read.Accepts);
        Assert.Null(await store.FindAsync("lnk_missing", default));
    }

    [Fact]
    public async Task A_rate_limit_is_changed_and_removed_by_an_update()
    {
        var store = await StoreAsync("org_a");
        var link = Link("org_a");
        await store.CreateAsync(link, default);
        var both = new LinkRateLimits(new RateLimit(3, 1), new RateLimit(1_000_000, 86_400));
        Assert.True(await store.UpdateAsync(link with { RateLimit = both }, default));
        Assert.Equal(both, (await store.FindAsync(link.Id, default))!.RateLimit);
        Assert.True(await store.UpdateAsync(link with { RateLimit = null }, default));
        Assert.Null((await store.FindAsync(link.Id, default))!.RateLimit);
    }

    [Fact]
    public async Task Permit2_networks_are_changed_and_cleared_by_an_update()
    {
        var store = await StoreAsync("org_a");
        var link = Link("org_a") with { Permit2Networks = [] };
        await store.CreateAsync(link, default);
        Assert.Empty((await store.FindAsync(link.Id, default))!.Permit2Networks);
        Assert.True(await store.UpdateAsync(link with { Permit2Networks = ["eip155:8453", "eip155:84532"] }, default));
        Assert.Equal(["eip155:8453", "eip155:84532"], (await store.FindAsync(link.Id, default))!.Permit2Networks);
        Assert.True(await store.UpdateAsync(link with { Permit2Networks = [] }, default));
        Assert.Empty((await store.FindAsync(link.Id, default))!.Permit2Networks);
    }

    [Fact]
    public async Task A_disabled_link_reads_back_disabled_leaves_the_listed_links_and_returns_when_enabled()
    {
        var store = await StoreAsync("org_a");
        var link = Link("org_a");
        await store.CreateAsync(link with { Disabled = true }, default);
        Assert.True((await store.FindAsync(link.Id, default))!.Disabled);
        Assert.True((await store.FindAsync(link.Id, default))!.Listing.Listed);
        Assert.DoesNotContain(link.Id, (await store.ListListedAsync(default)).Select(l => l.Id));

        Assert.True(await store.UpdateAsync(link, default));
        Assert.False((await store.FindAsync(link.Id, default))!.Disabled);
        Assert.Contains(link.Id, (await store.ListListedAsync(default)).Select(l => l.Id));

        Assert.True(await store.UpdateAsync(link with { Disabled = true }, default));
        Assert.True((await store.FindAsync(link.Id, default))!.Disabled);
        Assert.DoesNotContain(link.Id, (await store.ListListedAsync(default)).Select(l => l.Id));
        // Another organisation cannot switch it back on.
        Assert.False(await store.UpdateAsync(link with { OrganisationId = "org_b", Disabled = false }, default));
        Assert.True((await store.FindAsync(link.Id, default))!.Disabled);
    }

    [Fact]
    public async Task Creating_a_second_link_with_an_existing_id_fails_and_keeps_the_first()
    {
        // The OpenAPI import derives link ids from what they link to and relies on this to refuse a concurrent duplicate.
        var store = await StoreAsync("org_a", "org_b");
        var first = Link("org_a");
        await store.CreateAsync(first, default);

        await Assert.ThrowsAnyAsync<Exception>(() => store.CreateAsync(Link("org_b", first.Id) with { Name = "Impostor" }, default));

        var read = await store.FindAsync(first.Id, default);
        Assert.Equal(("org_a", "Weather"), (read!.OrganisationId, read.Name));
    }

    [Fact]
    public async Task Listing_shows_only_the_organisations_own_links()
    {
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var store = await StoreAsync(org, "org_other");
        await store.CreateAsync(Link(org), default);
        await store.CreateAsync(Link(org), default);
        await store.CreateAsync(Link("org_other"), default);
        Assert.Equal(2, (await store.ListAsync(org, default)).Count);
    }

    [Fact]
    public async Task Only_the_owner_updates_or_deletes_a_link()
    {
        var store = await StoreAsync("org_owner", "org_thief");
        var link = Link("org_owner");
        await store.CreateAsync(link, default);
        Assert.False(await store.UpdateAsync(link with { OrganisationId = "org_thief", Price = Usd.Parse("9.99") }, default));
        Assert.True(await store.UpdateAsync(link with { Price = Usd.Parse("0.02") }, default));
        Assert.Equal(Usd.Parse("0.02"), (await store.FindAsync(link.Id, default))!.Price);
        Assert.False(await store.DeleteAsync("org_thief", link.Id, default));
        Assert.True(await store.DeleteAsync("org_owner", link.Id, default));
        Assert.False(await store.DeleteAsync("org_owner", link.Id, default));
        Assert.Null(await store.FindAsync(link.Id, default));
    }

    [Fact]
    public async Task Listed_links_of_every_organisation_are_found_and_unlisting_or_deleting_removes_them()
    {
        var store = await StoreAsync("org_list_a", "org_list_b");
        var a = Link("org_list_a");
        var b = Link("org_list_b") with { CreatedAt = a.CreatedAt.AddMinutes(1) };
        var unlisted = Link("org_list_a") with { Listing = a.Listing with { Listed = false } };
        var bare = Link("org_list_b") with { Listing = LinkListing.None };
        foreach (var link in new[] { a, b, unlisted, bare })
        {
            await store.CreateAsync(link, default);
        }
        var listed = await store.ListListedAsync(default);
        Assert.Equal([a.Id, b.Id], listed.Where(l => l.Id == a.Id || l.Id == b.Id || l.Id == unlisted.Id || l.Id == bare.Id).Select(l => l.Id));
        Assert.True(listed.Single(l => l.Id == a.Id).Listing.SameAs(a.Listing));
        Assert.True((await store.FindAsync(unlisted.Id, default))!.Listing.SameAs(unlisted.Listing)); // kept while unlisted
        Assert.True((await store.FindAsync(bare.Id, default))!.Listing.SameAs(LinkListing.None));

        Assert.True(await store.UpdateAsync(a with { Listing = a.Listing with { Listed = false } }, default));
        Assert.True(await store.UpdateAsync(unlisted with { Listing = unlisted.Listing with { Listed = true } }, default));
        Assert.True(await store.DeleteAsync("org_list_b", b.Id, default));
        var after = (await store.ListListedAsync(default)).Select(l => l.Id).ToList();
        Assert.DoesNotContain(a.Id, after);
        Assert.DoesNotContain(b.Id, after);
        Assert.Contains(unlisted.Id, after);
    }

    [Fact]
    public async Task Creating_a_link_with_an_existing_id_fails_and_keeps_the_first()
    {
        var store = await StoreAsync("org_a");
        var link = Link("org_a");
        await store.CreateAsync(link, default);
        await Assert.ThrowsAnyAsync<Exception>(() => store.CreateAsync(link with { Price = Usd.Parse("5.00") }, default));
        Assert.Equal(Usd.Parse("0.01"), (await store.FindAsync(link.Id, default))!.Price);
    }
}

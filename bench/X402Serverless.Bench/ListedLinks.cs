using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;

namespace X402Serverless.Bench;

/// <summary>Listed links written straight to the store, so the catalogue rows measure a catalogue of realistic size.</summary>
internal static class ListedLinks
{
    public static async Task SeedAsync(ILinkStore store, string organisationId, string payTo, int count)
    {
        var start = DateTimeOffset.UtcNow;
        for (var i = 0; i < count; i++)
        {
            await store.CreateAsync(new PaidLink
            {
                Id = $"lnk_bench{i:00000}",
                OrganisationId = organisationId,
                Name = $"Benchmark API {i}",
                Description = "A listed API of the benchmark's catalogue",
                Upstream = "http://127.0.0.1:9/listed",
                Price = Usd.Parse("0.01"),
                PayTo = payTo,
                Networks = ["eip155:84532"],
                Methods = ["GET"],
                Listing = new LinkListing { Listed = true, Tags = ["bench", $"t{i % 20}"], Category = $"Category {i % 10}", InputSchema = """{"type":"object"}""" },
                CreatedAt = start.AddMilliseconds(i),
                UpdatedAt = start.AddMilliseconds(i),
            }, default);
        }
    }
}

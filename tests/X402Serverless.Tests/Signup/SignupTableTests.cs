using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.AzureStorage;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Signup;

/// <summary>Sign-up on Table Storage (Azurite), as in Azure: accounts made, keys working, one nonce one account.</summary>
public sealed class SignupTableTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Providers_and_payers_sign_up_on_table_storage_and_one_signed_message_posted_fifty_times_makes_one_account()
    {
        var settings = SignupTests.Settings();
        settings["X402:Storage:Kind"] = "table";
        settings["X402:Storage:TableEndpoint"] = azurite.Endpoint;
        settings["X402:Storage:AccountName"] = "devstoreaccount1";
        settings["X402:Storage:AccountKey"] = AzuriteFixture.AccountKey;
        settings["X402:Storage:TablePrefix"] = AzuriteFixture.UniqueTable("s");
        await using var gateway = await GatewayHost.StartAsync(settings);
        Assert.IsType<TableSignupStore>(gateway.Services.GetRequiredService<ISignupStore>());
        using var anonymous = gateway.Client();

        var wallet = SiweSigner.NewKey();
        using var provider = await SiweSigner.PostAsync(anonymous, "provider", await SiweSigner.SignFreshAsync(anonymous, wallet), "Table Co");
        var organisation = await provider.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(HttpStatusCode.Created == provider.StatusCode, organisation.ToString());
        using var asProvider = gateway.Client(organisation.GetProperty("key").GetString());
        Assert.Equal("Table Co", (await asProvider.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("name").GetString());

        using var payer = await SiweSigner.PostAsync(anonymous, "payer", await SiweSigner.SignFreshAsync(anonymous, wallet, "payer"));
        var account = await payer.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(HttpStatusCode.Created == payer.StatusCode, account.ToString());
        using var asPayer = gateway.Client(account.GetProperty("key").GetString());
        Assert.Equal(account.GetProperty("payer").GetProperty("id").GetString(), (await asPayer.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("id").GetString());

        using var again = await SiweSigner.PostAsync(anonymous, "provider", await SiweSigner.SignFreshAsync(anonymous, wallet));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(organisation.GetProperty("organisation").GetProperty("id").GetString(),
            (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("organisation").GetProperty("id").GetString());

        var signed = await SiweSigner.SignFreshAsync(anonymous, SiweSigner.NewKey(), "payer");
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => SiweSigner.PostAsync(anonymous, "payer", signed)));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            await ProblemAssert.IsAsync(refused, 401, "siwe_nonce_used");
        }
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }
}

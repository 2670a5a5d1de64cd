using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using X402Serverless.Handler.Hosting;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Deployment;

/// <summary>
/// No Bicep compiler runs here, so the templates are checked for the properties a reviewer would look for, and
/// against what the handler and the function definitions actually read.
/// </summary>
public sealed partial class InfrastructureTests
{
    private static readonly string Resources = File.ReadAllText(Path.Combine(RepoPaths.Root, "infra", "resources.bicep"));
    private static readonly string Main = File.ReadAllText(Path.Combine(RepoPaths.Root, "infra", "main.bicep"));

    private static readonly string[] Taggable =
    [
        "Microsoft.ManagedIdentity/userAssignedIdentities", "Microsoft.Storage/storageAccounts", "Microsoft.ServiceBus/namespaces",
        "Microsoft.KeyVault/vaults", "Microsoft.OperationalInsights/workspaces", "Microsoft.Insights/components", "Microsoft.Cdn/profiles",
        "Microsoft.Cdn/profiles/afdEndpoints", "Microsoft.Web/serverfarms", "Microsoft.Web/sites", "Microsoft.Resources/resourceGroups",
    ];

    [Fact]
    public void Every_taggable_resource_is_tagged_and_the_app_runs_as_its_user_assigned_identity()
    {
        foreach (var (type, body) in Blocks(Resources + Main))
        {
            if (Taggable.Contains(type))
            {
                Assert.True(body.Contains("tags:", StringComparison.Ordinal), $"{type} has no tags");
            }
        }
        var app = Blocks(Resources).Single(b => b.Type == "Microsoft.Web/sites").Body;
        Assert.Contains("type: 'UserAssigned'", app, StringComparison.Ordinal);
        Assert.Contains("runtime: { name: 'custom', version: '1.0' }", app, StringComparison.Ordinal);
        Assert.Contains("'azd-service-name': 'gateway'", app, StringComparison.Ordinal);
        Assert.Contains("AzureFrontDoor.Backend", app, StringComparison.Ordinal);
        Assert.Contains("'x-azure-fdid'", app, StringComparison.Ordinal);
    }

    [Fact]
    public void Local_keys_are_off_everywhere_and_queues_deduplicate_and_dead_letter()
    {
        Assert.Contains("allowSharedKeyAccess: false", Resources, StringComparison.Ordinal);
        Assert.Contains("disableLocalAuth: true", Resources, StringComparison.Ordinal);
        Assert.Contains("DisableLocalAuth: true", Resources, StringComparison.Ordinal);
        Assert.Contains("enableRbacAuthorization: true", Resources, StringComparison.Ordinal);
        var queue = Blocks(Resources).Single(b => b.Type == "Microsoft.ServiceBus/namespaces/queues").Body;
        Assert.Contains("requiresDuplicateDetection: true", queue, StringComparison.Ordinal);
        Assert.Contains("deadLetteringOnMessageExpiration: true", queue, StringComparison.Ordinal);
        Assert.DoesNotContain("listKeys", Resources + Main, StringComparison.Ordinal);
        Assert.DoesNotContain("br/public:", Resources + Main, StringComparison.Ordinal); // no registry modules: no network restore
        foreach (var role in new[] { "storageTableDataContributor", "storageQueueDataContributor", "storageBlobDataOwner", "serviceBusDataReceiver", "serviceBusDataSender", "keyVaultSecretsUser", "monitoringMetricsPublisher" })
        {
            Assert.Contains($"roles.{role}", Resources, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Outputs_carry_no_secrets_and_include_the_front_door_url()
    {
        var outputs = OutputRegex().Matches(Resources + Main).Select(m => m.Value).ToList();
        Assert.NotEmpty(outputs);
        foreach (var output in outputs)
        {
            Assert.DoesNotMatch("(?i)key\\s|secret|password|connectionstring|adminKey", output);
        }
        Assert.Contains(outputs, o => o.Contains("FRONTDOOR_URL", StringComparison.Ordinal));
        Assert.Contains("@secure()", Main, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_setting_the_functions_and_the_handler_read_is_provided_and_names_a_real_option()
    {
        var settings = Blocks(Resources).Single(b => b.Type == "Microsoft.Web/sites/config").Body;
        var provided = SettingRegex().Matches(settings).Select(m => m.Groups[1].Value).ToHashSet();

        foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Root, "functions"), "function.json", SearchOption.AllDirectories))
        {
            foreach (Match placeholder in PlaceholderRegex().Matches(File.ReadAllText(file)))
            {
                Assert.Contains(placeholder.Groups[1].Value, provided);
            }
            if (File.ReadAllText(file).Contains("\"connection\": \"ServiceBus\"", StringComparison.Ordinal))
            {
                Assert.Contains("ServiceBus__fullyQualifiedNamespace", provided);
            }
        }
        foreach (var required in new[] { "X402_ADMIN_KEY", "X402__PublicBaseUrl", "X402__FrontDoorId", "X402__ServiceBus__Namespace", "X402__Settlement__RunWorker", "AzureWebJobsStorage__accountName" })
        {
            Assert.Contains(required, provided);
        }
        // Every X402__A__B setting must bind to a real GatewayOptions property, so a typo cannot silently do nothing.
        foreach (var setting in provided.Where(s => s.StartsWith("X402__", StringComparison.Ordinal)))
        {
            Type type = typeof(GatewayOptions);
            foreach (var part in setting["X402__".Length..].Split("__"))
            {
                var property = type.GetProperty(part, BindingFlags.Public | BindingFlags.Instance);
                Assert.True(property is not null, $"{setting}: {type.Name} has no property {part}");
                type = property.PropertyType;
            }
        }
        Assert.Contains("X402_ADMIN_KEY: adminKey", settings, StringComparison.Ordinal);
        Assert.Contains("@Microsoft.KeyVault(SecretUri=", settings, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X402__SealingKey", "sealing-key")]
    [InlineData("X402__Settlement__GasWalletKey", "gas-wallet-key")]
    [InlineData("X402__Stripe__SecretKey", "stripe-secret-key")]
    [InlineData("X402__Stripe__WebhookSecret", "stripe-webhook-secret")]
    [InlineData("X402__Kyc__WebhookSecret", "kyc-webhook-secret")]
    [InlineData("X402__Kyc__AttestationKey", "kyc-attestation-key")]
    public void Every_secret_is_a_key_vault_reference_the_readme_tells_the_operator_to_fill(string setting, string secretName)
    {
        var settings = Blocks(Resources).Single(b => b.Type == "Microsoft.Web/sites/config").Body;
        var line = settings.Split('\n').Single(l => l.TrimStart().StartsWith(setting + ":", StringComparison.Ordinal));
        Assert.Contains($"'@Microsoft.KeyVault(SecretUri=${{vault.properties.vaultUri}}secrets/{secretName}/)'", line, StringComparison.Ordinal);
        Assert.Contains($"`{secretName}`", File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void Azure_yaml_deploys_the_handler_as_a_function_app_with_bicep()
    {
        var yaml = File.ReadAllText(Path.Combine(RepoPaths.Root, "azure.yaml"));
        Assert.Contains("host: function", yaml, StringComparison.Ordinal);
        Assert.Contains("gateway:", yaml, StringComparison.Ordinal);
        Assert.Contains("provider: bicep", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Behind_front_door_public_routes_need_our_profile_id_but_host_invocations_do_not()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.UnderFunctionsHost(new Dictionary<string, string?>
        {
            ["X402:FrontDoorId"] = "11111111-2222-3333-4444-555555555555",
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
        }));
        using var direct = await gateway.Admin.GetAsync("/api/links");
        Assert.Equal(HttpStatusCode.Forbidden, direct.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/links");
        request.Headers.Add("X-Azure-FDID", "11111111-2222-3333-4444-555555555555");
        using var viaFrontDoor = await gateway.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, viaFrontDoor.StatusCode);
        using var probe = await gateway.Client().GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        using var invocation = await gateway.Client().PostAsync("/AllowanceReset", new StringContent("""{"Data":{},"Metadata":{}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, invocation.StatusCode);
    }

    private static IEnumerable<(string Type, string Body)> Blocks(string bicep)
    {
        foreach (Match m in ResourceRegex().Matches(bicep))
        {
            // The block runs to the next top-level declaration.
            var start = m.Index;
            var next = NextDeclarationRegex().Match(bicep, start + m.Length);
            yield return (m.Groups[1].Value, bicep[start..(next.Success ? next.Index : bicep.Length)]);
        }
    }

    [GeneratedRegex(@"^resource \w+ '([^@']+)@[^']+'", RegexOptions.Multiline)]
    private static partial Regex ResourceRegex();

    [GeneratedRegex(@"^(resource|output|module|var|param) ", RegexOptions.Multiline)]
    private static partial Regex NextDeclarationRegex();

    [GeneratedRegex(@"^output .*$", RegexOptions.Multiline)]
    private static partial Regex OutputRegex();

    [GeneratedRegex(@"^\s+([A-Za-z0-9_]+):", RegexOptions.Multiline)]
    private static partial Regex SettingRegex();

    [GeneratedRegex(@"%([A-Z0-9_]+)%")]
    private static partial Regex PlaceholderRegex();
}

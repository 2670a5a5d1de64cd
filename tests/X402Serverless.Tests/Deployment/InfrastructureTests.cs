using System.Net;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using X402Serverless.Handler.Hosting;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Deployment;

/// <summary>
/// The Bicep is compiled to ARM JSON (by the Bicep CLI restore downloads) and the compiled template is checked for
/// what a reviewer would look for, and against what the handler and the function definitions actually read.
/// </summary>
public sealed partial class InfrastructureTests
{
    private static readonly string[] Taggable =
    [
        "Microsoft.ManagedIdentity/userAssignedIdentities", "Microsoft.Storage/storageAccounts", "Microsoft.ServiceBus/namespaces",
        "Microsoft.KeyVault/vaults", "Microsoft.OperationalInsights/workspaces", "Microsoft.Insights/components", "Microsoft.Cdn/profiles",
        "Microsoft.Cdn/profiles/afdEndpoints", "Microsoft.Web/serverfarms", "Microsoft.Web/sites", "Microsoft.Resources/resourceGroups",
    ];

    [Fact]
    public async Task The_bicep_compiles_and_lints_with_no_error_or_warning()
    {
        var template = await BicepTemplate.LoadAsync();
        Assert.Empty(template.Diagnostics);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "infra", "bicepconfig.json")))!;
        Assert.Equal("warning", (string?)config["analyzers"]!["core"]!["rules"]!["use-recent-api-versions"]!["level"]);
    }

    [Fact]
    public async Task Every_taggable_resource_is_tagged_and_the_app_runs_as_its_user_assigned_identity()
    {
        var template = await BicepTemplate.LoadAsync();
        foreach (var resource in template.AllResources.Where(r => Taggable.Contains((string?)r["type"])))
        {
            Assert.True(resource["tags"] is not null, $"{resource["type"]} has no tags");
        }
        var app = template.Resource("Microsoft.Web/sites");
        Assert.Equal("UserAssigned", (string?)app["identity"]!["type"]);
        Assert.Contains("Microsoft.ManagedIdentity/userAssignedIdentities", Text(app["identity"]!["userAssignedIdentities"]), StringComparison.Ordinal);
        Assert.Contains("'azd-service-name', 'gateway'", (string?)app["tags"], StringComparison.Ordinal);
        var config = app["properties"]!["functionAppConfig"]!;
        Assert.Equal("custom", (string?)config["runtime"]!["name"]);
        Assert.Equal("1.0", (string?)config["runtime"]!["version"]);
        Assert.Equal("UserAssignedIdentity", (string?)config["deployment"]!["storage"]!["authentication"]!["type"]);
        Assert.Equal("FlexConsumption", (string?)template.Resource("Microsoft.Web/serverfarms")["sku"]!["tier"]);
    }

    [Fact]
    public async Task Only_front_door_reaches_the_app_and_nothing_is_cached()
    {
        var template = await BicepTemplate.LoadAsync();
        var site = template.Resource("Microsoft.Web/sites")["properties"]!["siteConfig"]!;
        Assert.Equal("Deny", (string?)site["ipSecurityRestrictionsDefaultAction"]);
        var rule = Assert.Single(site["ipSecurityRestrictions"]!.AsArray())!;
        Assert.Equal("Allow", (string?)rule["action"]);
        Assert.Equal("ServiceTag", (string?)rule["tag"]);
        Assert.Equal("AzureFrontDoor.Backend", (string?)rule["ipAddress"]);
        var fdid = Assert.Single(rule["headers"]!["x-azure-fdid"]!.AsArray());
        Assert.Contains("Microsoft.Cdn/profiles", (string?)fdid, StringComparison.Ordinal);
        Assert.EndsWith(".frontDoorId]", (string?)fdid, StringComparison.Ordinal);

        var origin = template.Resource("Microsoft.Cdn/profiles/originGroups/origins")["properties"]!;
        Assert.Contains("Microsoft.Web/sites", (string?)origin["hostName"], StringComparison.Ordinal);
        Assert.EndsWith(".defaultHostName]", (string?)origin["hostName"], StringComparison.Ordinal);
        Assert.Equal((string?)origin["hostName"], (string?)origin["originHostHeader"]);
        var route = template.Resource("Microsoft.Cdn/profiles/afdEndpoints/routes")["properties"]!;
        Assert.Null(route["cacheConfiguration"]);
        Assert.Equal("HttpsOnly", (string?)route["forwardingProtocol"]);
        Assert.Null(template.Resource("Microsoft.Cdn/profiles/originGroups")["properties"]!["healthProbeSettings"]); // probes would keep the app awake
    }

    [Fact]
    public async Task Local_keys_are_off_everywhere_and_queues_deduplicate_and_dead_letter()
    {
        var template = await BicepTemplate.LoadAsync();
        Assert.False((bool)template.Resource("Microsoft.Storage/storageAccounts")["properties"]!["allowSharedKeyAccess"]!);
        Assert.True((bool)template.Resource("Microsoft.ServiceBus/namespaces")["properties"]!["disableLocalAuth"]!);
        Assert.True((bool)template.Resource("Microsoft.Insights/components")["properties"]!["DisableLocalAuth"]!);
        Assert.True((bool)template.Resource("Microsoft.KeyVault/vaults")["properties"]!["enableRbacAuthorization"]!);

        var queue = template.Resource("Microsoft.ServiceBus/namespaces/queues");
        Assert.True((bool)queue["properties"]!["requiresDuplicateDetection"]!);
        Assert.True((bool)queue["properties"]!["deadLetteringOnMessageExpiration"]!);
        Assert.Equal(["settlement-jobs", "stripe-events", "kyc-events", "inbox-deliveries"], template.Inner["variables"]!["queues"]!.AsArray().Select(q => (string?)q));

        var all = Text(template.Main);
        Assert.DoesNotContain("listKeys", all, StringComparison.Ordinal);
        Assert.DoesNotContain("br/public:", File.ReadAllText(Path.Combine(RepoPaths.Root, "infra", "main.bicep")), StringComparison.Ordinal); // no registry modules: no network restore
    }

    [Theory]
    [InlineData("Microsoft.Storage/storageAccounts", "storageBlobDataOwner", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b")]
    [InlineData("Microsoft.Storage/storageAccounts", "storageQueueDataContributor", "974c5e8b-45b9-4653-ba55-5f855dd0fb88")]
    [InlineData("Microsoft.Storage/storageAccounts", "storageTableDataContributor", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3")]
    [InlineData("Microsoft.ServiceBus/namespaces", "serviceBusDataReceiver", "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0")]
    [InlineData("Microsoft.ServiceBus/namespaces", "serviceBusDataSender", "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39")]
    [InlineData("Microsoft.KeyVault/vaults", "keyVaultSecretsUser", "4633458b-17de-408a-b874-0445c86b69e6")]
    [InlineData("Microsoft.Insights/components", "monitoringMetricsPublisher", "3913510d-42f4-4e42-8a64-420c390055eb")]
    public async Task The_identity_holds_each_data_role_on_its_resource(string scopeType, string role, string roleId)
    {
        var template = await BicepTemplate.LoadAsync();
        Assert.Equal(roleId, (string?)template.Inner["variables"]!["roles"]![role]);
        var assignment = template.Resources("Microsoft.Authorization/roleAssignments").Single(a => Text(a).Contains($"variables('roles').{role}", StringComparison.Ordinal));
        Assert.Contains(scopeType, (string?)assignment["scope"], StringComparison.Ordinal);
        Assert.Equal("ServicePrincipal", (string?)assignment["properties"]!["principalType"]);
        Assert.Contains("Microsoft.ManagedIdentity/userAssignedIdentities", (string?)assignment["properties"]!["principalId"], StringComparison.Ordinal);
        Assert.EndsWith(".principalId]", (string?)assignment["properties"]!["principalId"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Outputs_carry_no_secrets_and_include_the_front_door_url()
    {
        var template = await BicepTemplate.LoadAsync();
        var outputs = template.Main["outputs"]!.AsObject().Concat(template.Inner["outputs"]!.AsObject()).ToList();
        Assert.NotEmpty(outputs);
        foreach (var (name, output) in outputs)
        {
            Assert.DoesNotMatch("(?i)key$|secret|password|connectionstring", name);
            Assert.Equal("string", (string?)output!["type"]);
            Assert.DoesNotMatch("(?i)parameters\\('adminKey'\\)|listKeys|listSecrets|ConnectionString", Text(output));
        }
        Assert.Contains(outputs, o => o.Key == "FRONTDOOR_URL");
        Assert.Equal("securestring", (string?)template.Main["parameters"]!["adminKey"]!["type"]);
        Assert.Equal("securestring", (string?)template.Inner["parameters"]!["adminKey"]!["type"]);
    }

    [Fact]
    public async Task Every_setting_the_functions_and_the_handler_read_is_provided_and_names_a_real_option()
    {
        var template = await BicepTemplate.LoadAsync();
        var settings = Settings(template);
        var provided = settings.Select(s => s.Key).ToHashSet();

        foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Root, "functions"), "function.json", SearchOption.AllDirectories))
        {
            foreach (Match placeholder in PlaceholderRegex().Matches(File.ReadAllText(file)))
            {
                Assert.Contains(placeholder.Groups[1].Value, provided);
            }
            if (File.ReadAllText(file).Contains("\"connection\": \"ServiceBus\"", StringComparison.Ordinal))
            {
                Assert.Contains("ServiceBus__fullyQualifiedNamespace", provided);
                Assert.Equal("managedidentity", (string?)settings["ServiceBus__credential"]);
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
        Assert.Equal("[parameters('adminKey')]", (string?)settings["X402_ADMIN_KEY"]);
        // The table endpoint and no account key: the handler uses the managed identity.
        Assert.DoesNotContain("X402__Storage__AccountKey", provided);
        Assert.Contains(".primaryEndpoints.table]", (string?)settings["X402__Storage__TableEndpoint"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X402__SealingKey", "sealing-key")]
    [InlineData("X402__Settlement__GasWalletKey", "gas-wallet-key")]
    [InlineData("X402__Stripe__SecretKey", "stripe-secret-key")]
    [InlineData("X402__Stripe__WebhookSecret", "stripe-webhook-secret")]
    [InlineData("X402__Kyc__WebhookSecret", "kyc-webhook-secret")]
    [InlineData("X402__Kyc__AttestationKey", "kyc-attestation-key")]
    [InlineData("X402__Inbox__SmtpPassword", "smtp-password")]
    public async Task Every_secret_is_a_key_vault_reference_the_readme_tells_the_operator_to_fill(string setting, string secretName)
    {
        var template = await BicepTemplate.LoadAsync();
        var value = (string?)Settings(template)[setting];
        Assert.StartsWith($"[format('@Microsoft.KeyVault(SecretUri={{0}}secrets/{secretName}/)', reference(resourceId('Microsoft.KeyVault/vaults'", value, StringComparison.Ordinal);
        Assert.EndsWith(".vaultUri)]", value, StringComparison.Ordinal);
        Assert.Contains("Microsoft.ManagedIdentity/userAssignedIdentities", (string?)template.Resource("Microsoft.Web/sites")["properties"]!["keyVaultReferenceIdentity"], StringComparison.Ordinal);
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

    private static JsonObject Settings(BicepTemplate template) => template.Resource("Microsoft.Web/sites/config")["properties"]!.AsObject();

    // ARM expressions quote with ', which the default encoder would escape.
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Text(JsonNode? node) => node?.ToJsonString(Readable) ?? "";

    [GeneratedRegex(@"%([A-Z0-9_]+)%")]
    private static partial Regex PlaceholderRegex();
}

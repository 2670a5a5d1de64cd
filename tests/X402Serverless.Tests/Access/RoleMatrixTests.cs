using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using X402Serverless.Core.Access;
using X402Serverless.Handler.Management;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Access;

public sealed class RoleMatrixTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    public static TheoryData<string> Roles => new(KeyRoles.All);

    /// <summary>One representative request per permission, and the roles that may make it.</summary>
    private static readonly (string Method, string Path, Func<string, object?> Body, string[] Allowed)[] Matrix =
    [
        ("GET", "/api/links", _ => null, KeyRoles.All.ToArray()),
        ("GET", "/api/organisation", _ => null, KeyRoles.All.ToArray()),
        ("GET", "/api/usage", _ => null, KeyRoles.All.ToArray()),
        ("POST", "/api/links", _ => new { upstream = "http://127.0.0.1:9/a", price = "0.01", payTo = AccessFixture.PayTo }, [KeyRoles.Admin, KeyRoles.Developer]),
        ("GET", "/api/payers", _ => null, [KeyRoles.Admin, KeyRoles.Billing, KeyRoles.ReadOnly]),
        ("GET", "/api/organisation/balances", _ => null, [KeyRoles.Admin, KeyRoles.Billing, KeyRoles.ReadOnly]),
        ("POST", "/api/payers", role => new { name = "Payer by " + role }, [KeyRoles.Admin, KeyRoles.Billing]),
        ("PUT", "/api/organisation/budget", _ => new { monthlyBudget = "100.00" }, [KeyRoles.Admin, KeyRoles.Billing]),
        ("GET", "/api/keys", _ => null, [KeyRoles.Admin, KeyRoles.ReadOnly]),
        ("GET", "/api/audit", _ => null, [KeyRoles.Admin, KeyRoles.ReadOnly]),
        ("POST", "/api/keys", _ => new { role = KeyRoles.ReadOnly }, [KeyRoles.Admin]),
    ];

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Each_role_may_do_what_the_matrix_says_and_gets_a_403_problem_otherwise(string role)
    {
        var (admin, _) = await fixture.NewOrganisationAsync("Matrix " + role);
        var (client, _) = await fixture.NewKeyAsync(admin, role);
        foreach (var (method, path, body, allowed) in Matrix)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body(role) is { } b)
            {
                request.Content = JsonContent.Create(b);
            }
            using var response = await client.SendAsync(request);
            var what = $"{role} {method} {path}";
            if (allowed.Contains(role))
            {
                Assert.True(response.IsSuccessStatusCode, $"{what} -> {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            else
            {
                await ProblemAssert.IsAsync(response, 403, "forbidden_for_role", what);
            }
        }
    }

    [Fact]
    public async Task Only_admin_keys_create_organisations_and_the_problem_names_the_missing_permission()
    {
        var (admin, _) = await fixture.NewOrganisationAsync("Developers Inc");
        var (developer, _) = await fixture.NewKeyAsync(admin, KeyRoles.Developer);
        using var response = await developer.DeleteAsync("/api/keys/key_anything");
        await ProblemAssert.IsAsync(response, 403, "forbidden_for_role");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("'admin'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("'developer'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_endpoint_that_declares_no_permission_needs_admin_whatever_its_method()
    {
        var bare = new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(), "new endpoint");
        Assert.Equal(ManagementPermission.Admin, ManagementArea.Required(bare, "GET"));
        Assert.Equal(ManagementPermission.Admin, ManagementArea.Required(bare, "POST"));
        Assert.Equal(ManagementPermission.Admin, ManagementArea.Required(null, "GET"));
        var inArea = new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(ManagementArea.Billing), "billing");
        Assert.Equal(ManagementPermission.ReadBilling, ManagementArea.Required(inArea, "HEAD"));
        Assert.Equal(ManagementPermission.ManageBilling, ManagementArea.Required(inArea, "DELETE"));
        // The endpoint's own declaration (added after its group's) wins.
        var own = new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(ManagementArea.Billing, new RequiresPermission(ManagementPermission.ReadLinks)), "own");
        Assert.Equal(ManagementPermission.ReadLinks, ManagementArea.Required(own, "POST"));
        Assert.False(RolePermissions.Allows("superuser", ManagementPermission.ReadLinks));
    }

    [Fact]
    public void The_documented_matrix_is_the_enforced_one()
    {
        var doc = File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "roles.md"));
        var header = doc.First(l => l.StartsWith("| Permission", StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries);
        var roles = header[2..^1].Select(r => r.Trim('`')).ToArray();
        Assert.Equal(KeyRoles.All.Order(), roles.Order());
        var rows = doc.SkipWhile(l => !l.StartsWith("| Permission", StringComparison.Ordinal)).Skip(2).TakeWhile(l => l.StartsWith('|')).ToList();
        Assert.Equal(Enum.GetValues<ManagementPermission>().Length, rows.Count);
        foreach (var row in rows)
        {
            var cells = row.Split('|', StringSplitOptions.TrimEntries);
            var permission = Enum.GetValues<ManagementPermission>().Single(p => p.Name() == cells[1].Trim('`'));
            for (var i = 0; i < roles.Length; i++)
            {
                Assert.True(RolePermissions.Allows(roles[i], permission) == (cells[i + 2] == "yes"), $"{permission.Name()} for {roles[i]}");
            }
        }
    }
}

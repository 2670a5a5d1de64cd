using System.Net.Http.Json;
using X402Serverless.Core.Access;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Access;

/// <summary>The built-in facilitator spends the operator's gas: only keys granted it may call /verify and /settle.</summary>
public sealed class FacilitatorPermissionTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    [Theory]
    [InlineData("/facilitator/verify")]
    [InlineData("/facilitator/settle")]
    public async Task Only_a_key_granted_the_facilitator_gets_past_its_gate(string path)
    {
        // Operator keys (its organisation is always allowed), so only the grant differs.
        foreach (var role in KeyRoles.All)
        {
            var (plain, _) = await fixture.NewKeyAsync(fixture.Gateway.Admin, role);
            using var refused = await plain.PostAsJsonAsync(path, new { });
            await ProblemAssert.IsAsync(refused, 403, "facilitator_permission_required", role);
        }
        var (granted, _) = await fixture.NewKeyAsync(fixture.Gateway.Admin, KeyRoles.ReadOnly, facilitator: true);
        // Past the gate, the empty body is refused as a bad request: the key was admitted.
        using var admitted = await granted.PostAsJsonAsync(path, new { });
        await ProblemAssert.IsAsync(admitted, 400, "invalid_request");
        // The bootstrap admin key is the operator's own and holds the grant.
        using var bootstrap = await fixture.Gateway.Admin.PostAsJsonAsync(path, new { });
        await ProblemAssert.IsAsync(bootstrap, 400, "invalid_request");
    }

    [Fact]
    public async Task A_granted_key_of_an_organisation_the_operator_did_not_allow_is_still_refused()
    {
        var (admin, _) = await fixture.NewOrganisationAsync("Not allowed");
        var (granted, _) = await fixture.NewKeyAsync(admin, KeyRoles.Admin, facilitator: true);
        using var response = await granted.PostAsJsonAsync("/facilitator/settle", new { });
        await ProblemAssert.IsAsync(response, 403, "facilitator_not_allowed");
    }
}

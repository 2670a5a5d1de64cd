using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.Management;

/// <summary>
/// On an empty store, creates the operator organisation. Its admin key is X402_ADMIN_KEY when set; otherwise a
/// fresh key is generated and printed once to the console (it is stored only as a hash, so it cannot be shown again).
/// It is the operator's own key, so it holds the facilitator grant; every other key must be given it explicitly.
/// </summary>
internal sealed class AdminKeyBootstrapper(IAccessStore access, IConfiguration configuration, TimeProvider time, ILogger<AdminKeyBootstrapper> logger)
{
    public const string AdminKeySetting = "X402_ADMIN_KEY";
    private const int MinimumKeyLength = 24;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (await access.CountOrganisationsAsync(cancellationToken) > 0)
        {
            return;
        }
        var configured = configuration[AdminKeySetting];
        if (configured is not null && configured.Length < MinimumKeyLength)
        {
            throw new InvalidOperationException($"{AdminKeySetting} must be at least {MinimumKeyLength} characters.");
        }
        var key = string.IsNullOrEmpty(configured) ? ManagementKeys.NewKey() : configured;
        var now = time.GetUtcNow();
        var organisation = new Organisation(ManagementKeys.NewId("org"), "Operator", IsOperator: true, now);
        var accessKey = new AccessKey(ManagementKeys.NewId("key"), organisation.Id, ManagementKeys.DisplayPrefix(key), AccessKey.AdminRole, now, Facilitator: true);
        await access.CreateOrganisationAsync(organisation, accessKey, ManagementKeys.Hash(key), cancellationToken);
        if (string.IsNullOrEmpty(configured))
        {
            // Deliberately to the console, not the logger: shown once to whoever started the gateway.
            Console.WriteLine($"Created the operator organisation. Admin key (shown once, store it now): {key}");
        }
        else
        {
            logger.LogInformation("Created the operator organisation with the admin key from {Setting}.", AdminKeySetting);
        }
    }
}

using X402Serverless.Core.Access;

namespace X402Serverless.Handler.Management;

/// <summary>The organisation a management request acts for, set by <see cref="ManagementAuthFilter"/>.</summary>
internal sealed record CallerContext(AccessKey Key, Organisation Organisation)
{
    private const string ItemKey = "x402.caller";

    public static CallerContext Of(HttpContext context) =>
        (CallerContext)context.Items[ItemKey]!;

    public void Attach(HttpContext context) => context.Items[ItemKey] = this;
}

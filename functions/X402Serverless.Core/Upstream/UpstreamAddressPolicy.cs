using System.Net;
using System.Net.Sockets;

namespace X402Serverless.Core.Upstream;

/// <summary>
/// SSRF guard: a paid link may only reach public addresses. Loopback, private, link-local, multicast and cloud
/// metadata addresses are refused unless configuration allow-lists a range (tests allow loopback). An IPv6 address
/// that embeds an IPv4 one (mapped, NAT64, 6to4, Teredo…) is judged by that IPv4 too. The same check runs at
/// creation, on PATCH and on every connection, so DNS rebinding gains nothing.
/// </summary>
public sealed class UpstreamAddressPolicy
{
    private static readonly IPNetwork[] Blocked =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        // Azure's platform endpoint (wireserver) answers from inside any VM.
        IPNetwork.Parse("168.63.129.16/32"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("ff00::/8"),
    ];

    private readonly IPNetwork[] _allowed;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;

    public UpstreamAddressPolicy(IEnumerable<string> allowedRanges, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
    {
        _allowed = allowedRanges.Where(r => !string.IsNullOrWhiteSpace(r)).Select(r => IPNetwork.Parse(r.Trim())).ToArray();
        _resolve = resolve ?? ((host, ct) => Dns.GetHostAddressesAsync(host, ct));
    }

    public bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (_allowed.Any(n => n.Contains(address)))
        {
            return true;
        }
        return !Blocked.Any(n => n.BaseAddress.AddressFamily == address.AddressFamily && n.Contains(address))
            && EmbeddedIpv4.Of(address).All(IsAllowed);
    }

    /// <summary>Resolves a host and returns a verdict if any of its addresses is refused; null when all are allowed.</summary>
    public async Task<UpstreamVerdict?> CheckHostAsync(string host, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(host, cancellationToken);
        if (addresses.Length == 0)
        {
            return new UpstreamVerdict("upstream_unresolvable", $"The upstream host '{host}' does not resolve.");
        }
        var refused = addresses.FirstOrDefault(a => !IsAllowed(a));
        return refused is null
            ? null
            : new UpstreamVerdict("upstream_address_refused",
                $"The upstream host '{host}' resolves to {refused}, a private, loopback, link-local or metadata address. " +
                "An operator who means to reach it allows its range with X402__AllowedUpstreamRanges__0=<CIDR>.");
    }

    /// <summary>Resolves a host to the addresses it may be reached on, all of them checked.</summary>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            return [literal];
        }
        try
        {
            return (await _resolve(host, cancellationToken))
                .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                .ToArray();
        }
        catch (SocketException)
        {
            return [];
        }
    }
}

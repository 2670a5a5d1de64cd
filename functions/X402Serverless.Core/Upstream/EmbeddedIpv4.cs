using System.Net;
using System.Net.Sockets;

namespace X402Serverless.Core.Upstream;

/// <summary>
/// The IPv4 addresses an IPv6 address stands for when a translator or tunnel would carry it to IPv4
/// (IPv4-compatible, IPv4-mapped, SIIT, NAT64, 6to4, Teredo). The SSRF policy judges each of them, because
/// "[::ffff:0:127.0.0.1]" reaches the same host as "127.0.0.1" wherever such a path exists.
/// </summary>
public static class EmbeddedIpv4
{
    /// <summary>Every IPv4 address <paramref name="address"/> embeds; empty for IPv4 and for plain IPv6.</summary>
    public static IReadOnlyList<IPAddress> Of(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return [];
        }
        var b = address.GetAddressBytes();
        var found = new List<IPAddress>();
        if (AllZero(b, 0, 12))
        {
            // IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks).
            found.Add(V4(b[12], b[13], b[14], b[15]));
        }
        else if (AllZero(b, 0, 10) && b[10] == 0xff && b[11] == 0xff)
        {
            // IPv4-mapped ::ffff:a.b.c.d.
            found.Add(V4(b[12], b[13], b[14], b[15]));
        }
        else if (AllZero(b, 0, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
        {
            // SIIT IPv4-translated ::ffff:0:a.b.c.d (RFC 2765).
            found.Add(V4(b[12], b[13], b[14], b[15]));
        }
        else if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)
        {
            if (AllZero(b, 4, 8))
            {
                // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052).
                found.Add(V4(b[12], b[13], b[14], b[15]));
            }
            else if (b[4] == 0x00 && b[5] == 0x01)
            {
                // Local-use NAT64 64:ff9b:1::/48 (RFC 8215): the translator's prefix length is not known here, so
                // every RFC 6052 placement (/48, /56, /64, /96; bits 64–71 are skipped) is judged.
                found.Add(V4(b[6], b[7], b[9], b[10]));
                found.Add(V4(b[7], b[9], b[10], b[11]));
                found.Add(V4(b[9], b[10], b[11], b[12]));
                found.Add(V4(b[12], b[13], b[14], b[15]));
            }
        }
        else if (b[0] == 0x20 && b[1] == 0x02)
        {
            // 6to4 2002:V4ADDR::/48 (RFC 3056): the relay's IPv4 is bits 16–47.
            found.Add(V4(b[2], b[3], b[4], b[5]));
        }
        else if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
        {
            // Teredo 2001::/32 (RFC 4380): the server's IPv4 is bits 32–63, the client's the last 32 bits inverted.
            found.Add(V4(b[4], b[5], b[6], b[7]));
            found.Add(V4((byte)~b[12], (byte)~b[13], (byte)~b[14], (byte)~b[15]));
        }
        return found;
    }

    private static bool AllZero(byte[] bytes, int start, int count) => bytes.AsSpan(start, count).IndexOfAnyExcept((byte)0) < 0;

    private static IPAddress V4(byte a, byte b, byte c, byte d) => new([a, b, c, d]);
}

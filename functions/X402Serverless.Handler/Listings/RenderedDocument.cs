using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace X402Serverless.Handler.Listings;

/// <summary>
/// A public document's bytes, its content type and a strong ETag over those bytes; for a client that takes gzip, the
/// same bytes compressed once (on first ask) with an ETag of their own, as a strong ETag names one representation.
/// </summary>
internal sealed class RenderedDocument
{
    // Below about a packet, compressing saves nothing worth its header.
    private const int MinCompressed = 1400;

    private readonly Lazy<byte[]?> _gzip;

    public RenderedDocument(string contentType, byte[] body, int status = StatusCodes.Status200OK)
    {
        ContentType = contentType;
        Body = body;
        Status = status;
        var hash = Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 16));
        ETag = "\"" + hash + "\"";
        GzipETag = "\"" + hash + "-gzip\"";
        _gzip = new(() => body.Length < MinCompressed ? null : Compress(body));
    }

    public string ContentType { get; }

    public byte[] Body { get; }

    public int Status { get; }

    public string ETag { get; }

    public string GzipETag { get; }

    /// <summary>The body gzipped, or null when it is too small to be worth it.</summary>
    public byte[]? Gzip => _gzip.Value;

    public static RenderedDocument Html(string html, int status = StatusCodes.Status200OK) =>
        new("text/html; charset=utf-8", Encoding.UTF8.GetBytes(html), status);

    public static RenderedDocument Json(string json) => new("application/json; charset=utf-8", Encoding.UTF8.GetBytes(json));

    private static byte[] Compress(byte[] body)
    {
        using var output = new MemoryStream(body.Length / 4);
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(body);
        }
        return output.ToArray();
    }
}

using System.Security.Cryptography;
using System.Text;

namespace X402Serverless.Handler.Listings;

/// <summary>A public document's bytes, its content type and a strong ETag over those bytes.</summary>
internal sealed class RenderedDocument(string contentType, byte[] body, int status = StatusCodes.Status200OK)
{
    public string ContentType { get; } = contentType;

    public byte[] Body { get; } = body;

    public int Status { get; } = status;

    public string ETag { get; } = "\"" + Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 16)) + "\"";

    public static RenderedDocument Html(string html, int status = StatusCodes.Status200OK) =>
        new("text/html; charset=utf-8", Encoding.UTF8.GetBytes(html), status);

    public static RenderedDocument Json(string json) => new("application/json; charset=utf-8", Encoding.UTF8.GetBytes(json));
}

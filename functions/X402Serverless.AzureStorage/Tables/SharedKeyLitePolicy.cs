using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>
/// Table service SharedKeyLite: HMAC-SHA256 over "{x-ms-date}\n{canonicalized resource}". For Azurite and other
/// local emulators only; in Azure the account has shared keys off and requests carry Entra ID tokens.
/// </summary>
internal sealed class SharedKeyLitePolicy(string accountName, byte[] accountKey) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        var date = DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture);
        message.Request.Headers.SetValue("x-ms-date", date);
        var uri = message.Request.Uri.ToUri();
        // The resource is "/{account}{path}", plus "?comp=" when present; path-style emulator URLs already hold the account.
        var resource = $"/{accountName}{uri.AbsolutePath}";
        var comp = System.Web.HttpUtility.ParseQueryString(uri.Query)["comp"];
        if (comp is not null)
        {
            resource += "?comp=" + comp;
        }
        var signature = Convert.ToBase64String(HMACSHA256.HashData(accountKey, Encoding.UTF8.GetBytes($"{date}\n{resource}")));
        message.Request.Headers.SetValue("Authorization", $"SharedKeyLite {accountName}:{signature}");
    }
}

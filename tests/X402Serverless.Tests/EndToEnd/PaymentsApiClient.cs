using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.EndToEnd;

internal static class PaymentsApiClient
{
    public static async Task<JsonElement> GetAsync(GatewayHost gateway, string id) =>
        await gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/payments/{id}");

    /// <summary>A link's payments in one status, as its provider lists them.</summary>
    public static async Task<JsonElement[]> ListAsync(GatewayHost gateway, string linkId, string status) =>
        (await gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/payments?status={status}&linkId={linkId}"))
            .GetProperty("items").EnumerateArray().ToArray();

    /// <summary>Polls a payment until <paramref name="holds"/> is true of its view; fails after the timeout.</summary>
    public static async Task<JsonElement> WaitUntilAsync(GatewayHost gateway, string id, Func<JsonElement, bool> holds, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var payment = await GetAsync(gateway, id);
            if (holds(payment))
            {
                return payment;
            }
            Assert.True(DateTime.UtcNow < deadline, $"The payment did not reach the expected state in time: {payment}");
            await Task.Delay(100);
        }
    }

    /// <summary>Polls a payment until it leaves the live states or the timeout passes; returns its last view.</summary>
    public static async Task<JsonElement> WaitForEndAsync(GatewayHost gateway, string id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var payment = await GetAsync(gateway, id);
            var status = payment.GetProperty("status").GetString();
            if (status is "settled" or "failed" or "expired" || DateTime.UtcNow > deadline)
            {
                return payment;
            }
            await Task.Delay(100);
        }
    }
}

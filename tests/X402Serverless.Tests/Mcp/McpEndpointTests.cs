using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Mcp;

/// <summary>
/// The MCP endpoint /mcp driven by the official MCP C# client: the listed links as tools (search, describe, call), a
/// call paid through the x402 MCP transport (_meta["x402/payment"]) by the official x402 client on the anvil chain,
/// and everything an agent might send wrong.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class McpEndpointTests(ChainFixture chain)
{
    private const string Secret = "sk-upstream-secret-mcp-41c9";
    private GatewayHost Gateway => chain.Gateway;

    [Fact]
    public async Task The_endpoint_lists_search_describe_and_call_with_closed_input_schemas()
    {
        await using var mcp = await McpClientSession.ConnectAsync(Gateway);

        var tools = await mcp.Client.ListToolsAsync();

        Assert.Equal(["call", "describe", "search"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var tool in tools)
        {
            Assert.False(string.IsNullOrWhiteSpace(tool.Description));
            Assert.False(tool.ProtocolTool.InputSchema.GetProperty("additionalProperties").GetBoolean());
        }
        Assert.Equal("id", tools.Single(t => t.Name == "call").ProtocolTool.InputSchema.GetProperty("required")[0].GetString());
    }

    [Fact]
    public async Task Search_and_describe_show_listed_links_only_and_nothing_secret()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..10];
        var listed = await CreateListedAsync(tag);
        var (hidden, _) = await Gateway.CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + "/ok/hidden-" + tag, price = "0.03", payTo = ChainFixture.NewAddress().ToString(),
            name = "Hidden " + tag, tags = new[] { tag },
        });
        await using var mcp = await McpClientSession.ConnectAsync(Gateway);

        var found = ToolResult.Success(await mcp.CallAsync("search", new { tag }));
        Assert.Equal(1, found.GetProperty("total").GetInt32());
        var item = Assert.Single(found.GetProperty("items").EnumerateArray());
        Assert.Equal(listed.Id, item.GetProperty("id").GetString());
        Assert.Equal("Forecast " + tag, item.GetProperty("name").GetString());
        Assert.Equal("Forecasts for any city", item.GetProperty("description").GetString());
        Assert.Equal("0.02", item.GetProperty("price").GetString());
        Assert.Equal(["GET", "POST"], item.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["x402", "credits"], item.GetProperty("paymentTypes").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(listed.Url, item.GetProperty("url").GetString());

        Assert.Equal(1, ToolResult.Success(await mcp.CallAsync("search", new { query = $"forecast {tag}", category = "data" })).GetProperty("total").GetInt32());
        Assert.Equal(0, ToolResult.Success(await mcp.CallAsync("search", new { query = $"hidden {tag}" })).GetProperty("total").GetInt32());
        Assert.Equal(0, ToolResult.Success(await mcp.CallAsync("search", new { tag, category = "Games" })).GetProperty("total").GetInt32());

        var described = ToolResult.Success(await mcp.CallAsync("describe", new { id = listed.Id }));
        Assert.Equal("POST", described.GetProperty("priceRules")[0].GetProperty("method").GetString());
        Assert.Equal("0.05", described.GetProperty("priceRules")[0].GetProperty("price").GetString());
        Assert.Equal("GET /today?city=Oslo", described.GetProperty("exampleRequest").GetString());
        Assert.Equal("string", described.GetProperty("inputSchema").GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        Assert.Equal("number", described.GetProperty("outputSchema").GetProperty("properties").GetProperty("temperature").GetProperty("type").GetString());
        var accepts = described.GetProperty("payment").GetProperty("x402").GetProperty("accepts")[0];
        Assert.Equal("20000", accepts.GetProperty("amount").GetString());
        Assert.Equal(listed.PayTo.ToString(), accepts.GetProperty("payTo").GetString(), ignoreCase: true);
        Assert.Equal(ChainFixture.V2Network, accepts.GetProperty("network").GetString());
        Assert.EndsWith("/api/me/topup", described.GetProperty("payment").GetProperty("credits").GetProperty("topUpUrl").GetString(), StringComparison.Ordinal);
        Assert.Equal($"{Gateway.BaseUrl}/apis/{listed.Id}", described.GetProperty("documentation").GetString());

        // An unlisted link is not found, as in the catalogue, whether described or called; its upstream is never reached.
        Assert.Equal("not_found", ToolResult.ErrorCode(await mcp.CallAsync("describe", new { id = hidden })));
        Assert.Equal("not_found", ToolResult.ErrorCode(await mcp.CallAsync("call", new { id = hidden })));
        Assert.Equal("not_found", ToolResult.ErrorCode(await mcp.CallAsync("describe", new { id = "lnk_nope" })));
        Assert.Equal(0, chain.Upstream.Hits("/ok/hidden-" + tag));

        var everything = string.Join("\n", found.GetRawText(), described.GetRawText(),
            ToolResult.Text(await mcp.CallAsync("call", new { id = listed.Id })).GetRawText());
        Assert.DoesNotContain(Secret, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(listed.UpstreamPath, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(chain.Upstream.BaseUrl, everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unpaid_call_answers_the_links_own_402_and_a_call_paid_by_the_official_client_settles_on_chain_once()
    {
        var listed = await CreateListedAsync("t" + Guid.NewGuid().ToString("N")[..10]);
        await using var mcp = await McpClientSession.ConnectAsync(Gateway);
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        var unpaid = await mcp.CallAsync("call", new { id = listed.Id, path = "/today", query = new { city = "Oslo" } });

        // The exact PaymentRequired an HTTP client gets from the same request (PAYMENT-REQUIRED, decoded).
        Assert.True(unpaid.IsError);
        var required = ToolResult.Text(unpaid);
        using (var http = new HttpClient())
        {
            using var response = await http.GetAsync($"{listed.Url}/today?city=Oslo");
            Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
            var overHttp = JsonNode.Parse(Convert.FromBase64String(response.Headers.GetValues("PAYMENT-REQUIRED").Single()));
            Assert.True(JsonNode.DeepEquals(overHttp, JsonNode.Parse(required.GetRawText())), $"{overHttp}\n{required}");
        }
        Assert.Equal(2, required.GetProperty("x402Version").GetInt32());
        Assert.Equal("payment_required", required.GetProperty("error").GetString());
        Assert.Equal($"{listed.Url}/today?city=Oslo", required.GetProperty("resource").GetProperty("url").GetString());
        Assert.Equal("20000", required.GetProperty("accepts")[0].GetProperty("amount").GetString());
        Assert.True(required.GetProperty("extensions").TryGetProperty("bazaar", out _));
        Assert.Equal(0, chain.Upstream.Hits(listed.UpstreamPath + "/today"));

        // The agent's x402 client acts on the result: the official v2 client signs a PaymentPayload for it.
        var payload = JsonNode.Parse(await PeerProcess.RunNodeWithInputAsync(new Dictionary<string, string>
            {
                ["PAYER_KEY"] = chain.PayerKeyHex, ["TOKEN"] = chain.Token.ToString(), ["NETWORK"] = ChainFixture.V2Network,
            },
            required.GetRawText(), "mcp-pay.mjs"))!.AsObject();
        var paid = await mcp.CallAsync("call", new { id = listed.Id, path = "/today", query = new { city = "Oslo" } },
            new JsonObject { ["x402/payment"] = payload.DeepClone() });

        var answer = ToolResult.Success(paid);
        Assert.Equal(200, answer.GetProperty("status").GetInt32());
        var echoed = answer.GetProperty("body");
        Assert.Equal(listed.UpstreamPath + "/today", echoed.GetProperty("path").GetString());
        Assert.Equal("?city=Oslo", echoed.GetProperty("query").GetString());
        Assert.False(echoed.GetProperty("sawPayment").GetBoolean());
        var settlement = Assert.IsType<JsonObject>(paid.Meta?["x402/payment-response"]);
        Assert.True(settlement["success"]!.GetValue<bool>());
        Assert.Equal(ChainFixture.V2Network, settlement["network"]!.GetValue<string>());
        Assert.Equal(chain.Payer.ToString(), settlement["payer"]!.GetValue<string>(), ignoreCase: true);
        var transaction = settlement["transaction"]!.GetValue<string>();
        Assert.Equal(transaction, answer.GetProperty("paymentResponse").GetProperty("transaction").GetString());
        Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(transaction));
        Assert.Equal(20_000, await chain.BalanceAsync(listed.PayTo));
        Assert.Equal(payerBefore - 20_000, await chain.BalanceAsync(chain.Payer));
        Assert.Equal(1, chain.Upstream.Hits(listed.UpstreamPath + "/today"));

        // The same payment again, through MCP or over HTTP: refused by the one replay guard, nothing charged twice.
        var replayed = await mcp.CallAsync("call", new { id = listed.Id, path = "/today", query = new { city = "Oslo" } },
            new JsonObject { ["x402/payment"] = payload.DeepClone() });
        Assert.True(replayed.IsError);
        Assert.Equal("invalid_exact_evm_nonce_already_used", ToolResult.Text(replayed).GetProperty("error").GetString());
        Assert.Equal(2, ToolResult.Structured(replayed).GetProperty("x402Version").GetInt32());
        using (var overHttp = await SendAsync($"{listed.Url}/today?city=Oslo", Convert.ToBase64String(Encoding.UTF8.GetBytes(payload.ToJsonString()))))
        {
            Assert.Equal("invalid_exact_evm_nonce_already_used", await ErrorOfAsync(overHttp));
        }
        Assert.Equal(20_000, await chain.BalanceAsync(listed.PayTo));
        Assert.Equal(1, chain.Upstream.Hits(listed.UpstreamPath + "/today"));
    }

    [Fact]
    public async Task A_post_with_a_json_body_is_priced_by_the_links_rules_and_paid_with_the_payment_argument()
    {
        var listed = await CreateListedAsync("t" + Guid.NewGuid().ToString("N")[..10]);
        await using var mcp = await McpClientSession.ConnectAsync(Gateway);
        var arguments = new { id = listed.Id, path = "/forecast", body = new { city = "Oslo", days = 3 } };

        var required = ToolResult.Text(await mcp.CallAsync("call", arguments));
        var requirement = required.GetProperty("accepts")[0];
        Assert.Equal("50000", requirement.GetProperty("amount").GetString()); // the POST rule's price
        var header = new PaymentBuilder { Requirement = JsonNode.Parse(requirement.GetRawText())!.AsObject(), PayerKey = chain.PayerKey }.V2Header();

        var paid = await mcp.CallAsync("call", new { id = listed.Id, path = "/forecast", body = new { city = "Oslo", days = 3 }, payment = header });

        var answer = ToolResult.Success(paid);
        Assert.Equal(200, answer.GetProperty("status").GetInt32());
        Assert.Equal("POST", answer.GetProperty("body").GetProperty("method").GetString());
        Assert.Equal("""{"city":"Oslo","days":3}""", answer.GetProperty("body").GetProperty("body").GetString());
        Assert.True(Assert.IsType<JsonObject>(paid.Meta?["x402/payment-response"])["success"]!.GetValue<bool>());
        Assert.Equal(50_000, await chain.BalanceAsync(listed.PayTo));
    }

    [Fact]
    public async Task A_paid_call_whose_upstream_fails_returns_its_answer_and_charges_nothing()
    {
        var listed = await CreateListedAsync("t" + Guid.NewGuid().ToString("N")[..10], kind: "fail");
        await using var mcp = await McpClientSession.ConnectAsync(Gateway);
        var required = ToolResult.Text(await mcp.CallAsync("call", new { id = listed.Id }));
        var header = new PaymentBuilder { Requirement = JsonNode.Parse(required.GetProperty("accepts")[0].GetRawText())!.AsObject(), PayerKey = chain.PayerKey }.V2Header();
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        var failed = await mcp.CallAsync("call", new { id = listed.Id, payment = header });

        Assert.True(failed.IsError);
        var answer = ToolResult.Text(failed);
        Assert.Equal(500, answer.GetProperty("status").GetInt32());
        Assert.Equal("upstream exploded", answer.GetProperty("text").GetString());
        Assert.Null(failed.Meta?["x402/payment-response"]);
        Assert.Equal(0, await chain.BalanceAsync(listed.PayTo));
        Assert.Equal(payerBefore, await chain.BalanceAsync(chain.Payer));
    }

    [Fact]
    public async Task A_payment_used_over_http_is_refused_over_mcp_and_a_v1_payload_in_meta_pays()
    {
        var listed = await CreateListedAsync("t" + Guid.NewGuid().ToString("N")[..10]);
        await using var mcp = await McpClientSession.ConnectAsync(Gateway);
        var requirement = JsonNode.Parse(ToolResult.Text(await mcp.CallAsync("call", new { id = listed.Id })).GetProperty("accepts")[0].GetRawText())!.AsObject();
        var header = new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header();
        using (var overHttp = await SendAsync(listed.Url, header))
        {
            Assert.Equal(HttpStatusCode.OK, overHttp.StatusCode);
        }

        var replayed = await mcp.CallAsync("call", new { id = listed.Id, payment = header });

        Assert.True(replayed.IsError);
        Assert.Equal("invalid_exact_evm_nonce_already_used", ToolResult.Text(replayed).GetProperty("error").GetString());
        Assert.Equal(20_000, await chain.BalanceAsync(listed.PayTo));

        // An x402 v1 PaymentPayload in _meta is handed to the paid path as X-PAYMENT and settles under its v1 network name.
        var v1 = JsonNode.Parse(Convert.FromBase64String(new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V1Header(ChainFixture.V1Network)))!;
        var paid = await mcp.CallAsync("call", new { id = listed.Id }, new JsonObject { ["x402/payment"] = v1 });
        Assert.Equal(200, ToolResult.Success(paid).GetProperty("status").GetInt32());
        Assert.Equal(ChainFixture.V1Network, paid.Meta?["x402/payment-response"]?["network"]?.GetValue<string>());
        Assert.Equal(40_000, await chain.BalanceAsync(listed.PayTo));
    }

    [Fact]
    public async Task A_deferred_link_answers_at_once_with_its_payment_id_and_the_job_settles_it()
    {
        var listed = await CreateListedAsync("t" + Guid.NewGuid().ToString("N")[..10], settlement: "deferred");
        await using var mcp = await McpClientSession.ConnectAsync(Gateway);
        var requirement = JsonNode.Parse(ToolResult.Text(await mcp.CallAsync("call", new { id = listed.Id })).GetProperty("accepts")[0].GetRawText())!.AsObject();

        var paid = await mcp.CallAsync("call", new { id = listed.Id, payment = new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header() });

        var answer = ToolResult.Success(paid);
        Assert.Equal(200, answer.GetProperty("status").GetInt32());
        Assert.Equal("deferred", answer.GetProperty("settlement").GetString());
        var payment = await EndToEnd.PaymentsApiClient.WaitForEndAsync(Gateway, answer.GetProperty("paymentId").GetString()!, TimeSpan.FromSeconds(30));
        Assert.Equal("settled", payment.GetProperty("status").GetString());
        Assert.Equal(20_000, await chain.BalanceAsync(listed.PayTo));
    }

    [Fact]
    public async Task Bad_arguments_are_tool_errors_that_name_each_problem()
    {
        var listed = await CreateListedAsync("t" + Guid.NewGuid().ToString("N")[..10]);
        await using var mcp = await McpClientSession.ConnectAsync(Gateway);

        Assert.Equal("required", ToolResult.ErrorCode(await mcp.CallAsync("call", new { })));
        Assert.Equal("required", ToolResult.ErrorCode(await mcp.CallAsync("describe", new { id = "  " })));
        Assert.Equal("invalid_type", ToolResult.ErrorCode(await mcp.CallAsync("describe", new { id = 42 })));
        Assert.Equal("invalid_limit", ToolResult.ErrorCode(await mcp.CallAsync("search", new { limit = 500 })));
        Assert.Equal("invalid_type", ToolResult.ErrorCode(await mcp.CallAsync("search", new { offset = "ten" })));
        Assert.Equal("invalid_query", ToolResult.ErrorCode(await mcp.CallAsync("search", new { query = new string('a', 201) })));
        Assert.Equal("invalid_method", ToolResult.ErrorCode(await mcp.CallAsync("call", new { id = listed.Id, method = "TRACE" })));
        Assert.Equal("body_not_allowed", ToolResult.ErrorCode(await mcp.CallAsync("call", new { id = listed.Id, method = "GET", body = new { a = 1 } })));
        Assert.Equal("invalid_path", ToolResult.ErrorCode(await mcp.CallAsync("call", new { id = listed.Id, path = "/a b" })));
        Assert.Equal("invalid_type", ToolResult.ErrorCode(await mcp.CallAsync("call", new { id = listed.Id, query = "city=Oslo" })));
        Assert.Equal("invalid_type", ToolResult.ErrorCode(await mcp.CallAsync("call", new { id = listed.Id, query = new { city = new { nested = 1 } } })));
        Assert.Equal("payment_given_twice", ToolResult.ErrorCode(await mcp.CallAsync("call", new { id = listed.Id, payment = "abc" },
            new JsonObject { ["x402/payment"] = new JsonObject { ["x402Version"] = 2 } })));
        Assert.Equal("invalid_type", ToolResult.ErrorCode(await mcp.CallAsync("call", new { id = listed.Id },
            new JsonObject { ["x402/payment"] = "not an object" })));

        // Every problem named at once, the unknown argument among them.
        var many = await mcp.CallAsync("call", new { id = listed.Id, prise = "0.01", method = "FETCH" });
        var fields = ToolResult.Structured(many).GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Equal(["prise", "method"], fields);
        Assert.Equal("unknown_field", ToolResult.ErrorCode(many));

        // A path that leaves the link's upstream and a garbled payment are refused by the paid path itself, charging nothing.
        var escaped = ToolResult.Text(await mcp.CallAsync("call", new { id = listed.Id, path = "/../../admin" }));
        Assert.Equal(400, escaped.GetProperty("status").GetInt32());
        Assert.Equal("invalid_path", escaped.GetProperty("body").GetProperty("code").GetString());
        var garbled = await mcp.CallAsync("call", new { id = listed.Id, payment = "bm90IGEgcGF5bWVudA==" });
        Assert.True(garbled.IsError);
        Assert.NotEqual("payment_required", ToolResult.Text(garbled).GetProperty("error").GetString());
        Assert.Equal(2, ToolResult.Structured(garbled).GetProperty("x402Version").GetInt32());
    }

    [Fact]
    public async Task A_message_over_the_mcp_bound_is_refused_before_it_is_read()
    {
        using var http = Gateway.Client();
        using var content = new ByteArrayContent(new byte[300 * 1024]);
        content.Headers.ContentType = new("application/json");

        using var response = await http.PostAsync("/mcp", content);

        await ProblemAssert.IsAsync(response, 413, "payload_too_large");
    }

    [Theory]
    [InlineData("{")]
    [InlineData("not json")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"search\",\"arguments\":{\"query\":\"\\ud800\"}}}")]
    [InlineData("deep")]
    public async Task A_malformed_message_is_a_client_error_never_a_500(string body)
    {
        if (body == "deep")
        {
            body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"call\",\"arguments\":{\"id\":\"x\",\"body\":"
                + new string('[', 5000) + new string(']', 5000) + "}}}";
        }
        using var http = Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");

        using var response = await http.SendAsync(request);

        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status is >= 400 and < 500 || (status == 200 && text.Contains("\"error\"", StringComparison.Ordinal)), $"{status}: {text}");
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chunked_message_over_the_bound_is_refused_too()
    {
        using var http = Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"pad\":\"" + new string('a', 300 * 1024) + "\"}}"))),
        };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");

        using var response = await http.SendAsync(request);

        await ProblemAssert.IsAsync(response, 413, "payload_too_large");
    }

    private async Task<PaidTestLink> CreateListedAsync(string tag, string kind = "ok", string settlement = "sync")
    {
        var path = $"/{kind}/{Guid.NewGuid():N}";
        var payTo = ChainFixture.NewAddress();
        var (id, url) = await Gateway.CreateLinkAsync(new Dictionary<string, object?>
        {
            ["upstream"] = chain.Upstream.BaseUrl + path,
            ["price"] = "0.02",
            ["payTo"] = payTo.ToString(),
            ["name"] = "Forecast " + tag,
            ["description"] = "Forecasts for any city",
            ["methods"] = new[] { "GET", "POST" },
            ["accepts"] = new[] { "x402", "credits" },
            ["priceRules"] = new[] { new { method = "POST", price = "0.05" } },
            ["upstreamHeaders"] = new Dictionary<string, string> { ["X-Upstream-Key"] = Secret },
            ["settlement"] = settlement,
            ["deferredPayers"] = "any",
            ["listed"] = true,
            ["tags"] = new[] { tag, "weather" },
            ["category"] = "Data",
            ["exampleRequest"] = "GET /today?city=Oslo",
            ["inputSchema"] = new { type = "object", properties = new { city = new { type = "string" } }, required = new[] { "city" } },
            ["outputSchema"] = new { type = "object", properties = new { temperature = new { type = "number" } } },
        });
        return new PaidTestLink(id, url, path, payTo);
    }
}

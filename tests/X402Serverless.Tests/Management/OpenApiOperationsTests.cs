using System.Text.Json.Nodes;
using System.Text.Json;
using X402Serverless.Handler.Management;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Management;

/// <summary>Reading OpenAPI documents into operations (Microsoft.OpenApi), without a gateway.</summary>
public sealed class OpenApiOperationsTests
{
    internal static string Petstore(string extension) =>
        File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "X402Serverless.Tests", "Management", "OpenApi", "petstore." + extension));

    [Theory]
    [InlineData("yaml")]
    [InlineData("json")]
    public void The_petstore_reads_as_its_three_operations_with_schemas_inlined(string format)
    {
        var (reading, errors) = OpenApiOperations.Read(Petstore(format));

        Assert.Empty(errors);
        Assert.Equal("http://petstore.swagger.io/v1", reading!.FirstServerUrl);
        Assert.Equal(["listPets", "createPets", "showPetById"], reading.Operations.Select(o => o.Key));
        var list = reading.Operations[0];
        Assert.Equal(("GET", "/pets", "/pets", "List all pets"), (list.Method, list.Path, list.StaticPrefix, list.Summary));
        Assert.Equal(["pets"], list.Tags);
        var input = JsonDocument.Parse(list.InputSchema!).RootElement;
        Assert.Equal("integer", input.GetProperty("properties").GetProperty("limit").GetProperty("type").GetString());
        Assert.Equal("array", JsonDocument.Parse(list.OutputSchema!).RootElement.GetProperty("type").GetString());

        var create = reading.Operations[1];
        Assert.Equal("POST", create.Method);
        Assert.Contains("\"name\"", create.InputSchema, StringComparison.Ordinal);
        Assert.Null(create.OutputSchema); // its 201 has no content

        var show = reading.Operations[2];
        Assert.Equal(("/pets/{petId}", "/pets"), (show.Path, show.StaticPrefix));
        var pet = JsonDocument.Parse(show.OutputSchema!).RootElement;
        Assert.Equal("string", pet.GetProperty("properties").GetProperty("name").GetProperty("type").GetString());
        Assert.DoesNotContain("$ref", show.OutputSchema, StringComparison.Ordinal);
        Assert.Null(show.InputSchema);
        Assert.Null(show.ExampleRequest); // petId has no example in the document
    }

    [Fact]
    public void Examples_in_the_document_become_the_example_request_relative_to_the_link()
    {
        const string document = """
            openapi: 3.1.0
            info: { title: Weather, version: "1" }
            paths:
              /cities/{city}/forecast:
                get:
                  operationId: forecast
                  parameters:
                    - { name: city, in: path, required: true, schema: { type: string }, example: Oslo }
                    - { name: days, in: query, required: true, schema: { type: integer }, example: 3 }
                  responses: { "200": { description: ok } }
              /reports:
                post:
                  operationId: report
                  requestBody:
                    content:
                      application/json:
                        schema: { type: object, properties: { city: { type: string } }, required: [city] }
                        example: { city: Bergen }
                  responses: { "201": { description: created } }
            """;
        var (reading, errors) = OpenApiOperations.Read(document);

        Assert.Empty(errors);
        Assert.Equal("GET /Oslo/forecast?days=3", reading!.Operations[0].ExampleRequest);
        Assert.Equal("/cities", reading.Operations[0].StaticPrefix);
        Assert.Equal("POST / {\"city\":\"Bergen\"}", reading.Operations[1].ExampleRequest);
        Assert.Null(reading.FirstServerUrl);
    }

    [Theory]
    [InlineData("this is: [not, an openapi document")]
    [InlineData("{\"openapi\": \"3.0.0\", \"paths\": ")]
    [InlineData("{\"hello\": \"world\"}")]
    [InlineData("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n")]
    [InlineData("")]
    public void A_malformed_or_empty_document_is_one_document_error(string text)
    {
        var (reading, errors) = OpenApiOperations.Read(text);

        Assert.Null(reading);
        var error = Assert.Single(errors);
        Assert.Equal("document", error.Field);
        Assert.Contains(error.Code, new[] { "invalid_document", "no_operations", "unsupported_version" });
    }

    [Theory]
    [InlineData("yaml")]
    [InlineData("json")]
    public void Truncated_and_corrupted_documents_never_throw(string format)
    {
        var text = Petstore(format);
        var random = new Random(13);
        var variants = Enumerable.Range(1, 60).Select(i => text[..(text.Length * i / 61)]).ToList();
        for (var i = 0; i < 60; i++)
        {
            var chars = text.ToCharArray();
            for (var j = 0; j < 5; j++)
            {
                const string Hostile = "{}[]:,\"'&*!|>-#\n\t\u0000";
                chars[random.Next(chars.Length)] = Hostile[random.Next(Hostile.Length)];
            }
            variants.Add(new string(chars));
        }

        foreach (var variant in variants)
        {
            var (reading, errors) = OpenApiOperations.Read(variant);
            Assert.True(reading is not null || errors.Count == 1, variant);
            Assert.True(reading is null || reading.Operations.All(o => o.Key.Length > 0 && o.Method.Length > 0));
        }
    }

    [Fact]
    public void A_yaml_alias_bomb_is_refused_not_expanded()
    {
        var bomb = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\nx-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
            + string.Join("", Enumerable.Range(1, 9).Select(i => $"x-{(char)('a' + i)}: &{(char)('a' + i)} [" + string.Join(",", Enumerable.Repeat($"*{(char)('a' + i - 1)}", 9)) + "]\n"))
            + "paths: {}\n";

        var started = System.Diagnostics.Stopwatch.StartNew();
        var (reading, errors) = OpenApiOperations.Read(bomb);

        Assert.Null(reading);
        Assert.NotEmpty(errors);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"reading took {started.Elapsed}");
    }

    [Fact]
    public async Task Local_references_that_fan_out_are_left_out_of_the_listing_rather_than_expanded()
    {
        // Four schemas of ten properties, each a $ref to the next: 2 KB that inline to 10^4 objects per use (seconds of
        // CPU each, per body and per answer, before the bound). Forty operations would be minutes; bounded, they are quick.
        var (reading, errors) = await Task.Run(() => OpenApiOperations.Read(FanOutDocument(40))).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Empty(errors);
        Assert.Equal(40, reading!.Operations.Count);
        Assert.All(reading.Operations, o => Assert.Null(o.InputSchema));
        Assert.All(reading.Operations, o => Assert.Null(o.OutputSchema));
    }

    [Fact]
    public async Task Too_many_operations_are_refused_before_any_is_described()
    {
        var (reading, errors) = await Task.Run(() => OpenApiOperations.Read(FanOutDocument(OpenApiOperations.MaxOperations + 1))).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Null(reading);
        Assert.Equal("too_many_operations", Assert.Single(errors).Code);
    }

    private static string FanOutDocument(int operations)
    {
        var schemas = new JsonObject();
        for (var level = 0; level < 4; level++)
        {
            var properties = new JsonObject();
            for (var p = 0; p < 10; p++)
            {
                properties[$"p{p}"] = level == 3 ? new JsonObject { ["type"] = "string" } : new JsonObject { ["$ref"] = $"#/components/schemas/S{level + 1}" };
            }
            schemas[$"S{level}"] = new JsonObject { ["type"] = "object", ["properties"] = properties };
        }
        var paths = new JsonObject();
        for (var i = 0; i < operations; i++)
        {
            var schema = new JsonObject { ["$ref"] = "#/components/schemas/S0" };
            paths[$"/p{i}"] = new JsonObject
            {
                ["post"] = new JsonObject
                {
                    ["requestBody"] = new JsonObject { ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = schema } } },
                    ["responses"] = new JsonObject
                    {
                        ["200"] = new JsonObject
                        {
                            ["description"] = "ok",
                            ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = schema.DeepClone() } },
                        },
                    },
                },
            };
        }
        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject { ["title"] = "fan-out", ["version"] = "1" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        }.ToJsonString();
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace X402Serverless.Core.Json;

/// <summary>
/// A field of a change request that can be absent (leave as is), null (clear) or a value: JSON tells the three
/// apart, a nullable property alone does not.
/// </summary>
[JsonConverter(typeof(PatchJsonConverterFactory))]
public readonly record struct Patch<T>(bool IsSent, T? Value)
{
    /// <summary>Sent as null: the field is to be cleared.</summary>
    public bool IsCleared => IsSent && Value is null;
}

/// <summary>Reads a <see cref="Patch{T}"/> from whatever its property holds, null included (absent stays default).</summary>
public sealed class PatchJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(Patch<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(PatchJsonConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;

    private sealed class PatchJsonConverter<T> : JsonConverter<Patch<T>>
    {
        public override bool HandleNull => true;

        public override Patch<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null
                ? new(true, default)
                : new(true, JsonSerializer.Deserialize(ref reader, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)options.GetTypeInfo(typeof(T))));

        public override void Write(Utf8JsonWriter writer, Patch<T> value, JsonSerializerOptions options)
        {
            if (value.Value is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                JsonSerializer.Serialize(writer, value.Value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));
            }
        }
    }
}

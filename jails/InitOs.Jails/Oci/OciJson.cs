using System.Text.Json.Serialization;

namespace InitOs.Jails.Oci;

/// <summary>
/// Source-generated (AOT-safe) reader for config.json. Unknown members are refused so an
/// unsupported field is an error naming it; comments and trailing commas are not JSON.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(OciSpec))]
internal sealed partial class OciJson : JsonSerializerContext;

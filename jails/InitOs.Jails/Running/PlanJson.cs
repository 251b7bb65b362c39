using System.Text.Json.Serialization;
using InitOs.Jails.Planning;

namespace InitOs.Jails.Running;

/// <summary>state.json as `initos jail state` reads it back (source-generated, AOT-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = false)]
[JsonSerializable(typeof(JailState))]
internal sealed partial class PlanJson : JsonSerializerContext;


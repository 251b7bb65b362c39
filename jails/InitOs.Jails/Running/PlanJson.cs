using System.Text.Json.Serialization;
using InitOs.Jails.Planning;

namespace InitOs.Jails.Running;

/// <summary>The plan as handed from the host to jail-init (source-generated, AOT-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = false)]
[JsonSerializable(typeof(JailPlan))]
[JsonSerializable(typeof(JailState))]
internal sealed partial class PlanJson : JsonSerializerContext;

/// <summary>The plan's wire format between the host and jail-init.</summary>
public static class JailPlans
{
    public static string Serialize(JailPlan plan) => System.Text.Json.JsonSerializer.Serialize(plan, PlanJson.Default.JailPlan);

    public static JailPlan Parse(string json) =>
        System.Text.Json.JsonSerializer.Deserialize(json, PlanJson.Default.JailPlan) ?? throw new JailException("jail-init: empty plan");
}

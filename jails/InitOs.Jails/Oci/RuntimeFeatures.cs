using System.Text.Json;
using InitOs.Jails.Planning;
using InitOs.Jails.Seccomp;

namespace InitOs.Jails.Oci;

/// <summary>
/// `initos jail features`: the runtime-spec "features" document, made from the tables the
/// parser and planner use (namespaces, mount options, capabilities, seccomp actions and
/// comparisons), so it cannot claim what the code does not do.
/// </summary>
public static class RuntimeFeatures
{
    /// <summary>The runtime-spec version InitOS writes and reads up to.</summary>
    public const string SpecVersion = "1.0.2";

    public static string Json()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("ociVersionMin", "1.0.0");
            json.WriteString("ociVersionMax", SpecVersion);
            Strings(json, "hooks", []);
            Strings(json, "mountOptions", MountOptions.Names.Order(StringComparer.Ordinal));
            json.WriteStartObject("linux");
            Strings(json, "namespaces", Namespaces.Names);
            Strings(json, "capabilities", Enumerable.Range(0, Capabilities.Last + 1).Select(Capabilities.NameOf));
            json.WriteStartObject("cgroup");
            json.WriteBoolean("v1", false);
            json.WriteBoolean("v2", true);
            json.WriteBoolean("systemd", false);
            json.WriteBoolean("systemdUser", false);
            json.WriteEndObject();
            json.WriteStartObject("seccomp");
            json.WriteBoolean("enabled", true);
            Strings(json, "actions", SeccompAction.OciNames);
            Strings(json, "operators", SeccompArguments.Operators.Keys);
            Strings(json, "archs", ["SCMP_ARCH_X86_64"]);
            json.WriteEndObject();
            json.WriteStartObject("apparmor");
            json.WriteBoolean("enabled", false);
            json.WriteEndObject();
            json.WriteStartObject("selinux");
            json.WriteBoolean("enabled", false);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteStartObject("annotations");
            json.WriteString("org.opencontainers.runtime-spec.features.runtime.name", "initos");
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Strings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }
        json.WriteEndArray();
    }
}

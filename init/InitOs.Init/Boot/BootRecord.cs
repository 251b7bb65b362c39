using System.Text.Json;

namespace InitOs.Init.Boot;

/// <summary>
/// What this boot was, for `initos admin status`: the mode and the phase timing table, as
/// /run/initos/boot.json. Written once the phases are done. With a sidecar that outlives
/// switch_root, a copy goes into its /run as well, because /run/initos itself is outside its chroot.
/// </summary>
public static class BootRecord
{
    public const string Path = "/run/initos/boot.json";

    /// <param name="root">Where /run is now: / while InitOS stays, the new root once switch_root moved /run into it.</param>
    /// <param name="sidecarRoot">The staged sidecar's root as seen before the hand-off (under /run).</param>
    public static void Write(BootContext context, string root, string sidecarRoot)
    {
        var json = Render(context);
        WriteUnder(root, json);
        var sidecar = System.IO.Path.Combine(root, sidecarRoot.TrimStart('/'));
        if (Directory.Exists(sidecar))
        {
            WriteUnder(sidecar, json);
        }
    }

    private static void WriteUnder(string root, byte[] json)
    {
        var target = System.IO.Path.Combine(root, Path.TrimStart('/'));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
        File.WriteAllBytes(target, json);
    }

    private static byte[] Render(BootContext context)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("mode", context.Settings is { } settings ? Config.ConfigNames.Name(settings.Mode) : "unknown");
            json.WriteStartArray("phases");
            foreach (var timing in context.Timings)
            {
                json.WriteStartObject();
                json.WriteString("name", timing.Name);
                json.WriteNumber("start_uptime", Math.Round(timing.StartUptime, 3));
                json.WriteNumber("took_ms", Math.Round(timing.Duration.TotalMilliseconds, 1));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}

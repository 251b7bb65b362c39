namespace InitOs.Init.Devices;

/// <summary>How the root device is named: the forms root= accepts.</summary>
public enum RootSpecKind
{
    Path,
    Label,
    Uuid,
    PartUuid,
    PartLabel,
}

/// <summary>A parsed root= value, and the rule that says whether a device is the one meant.</summary>
public sealed record RootSpec(RootSpecKind Kind, string Value, string Text)
{
    private static readonly (string Prefix, RootSpecKind Kind)[] Tags =
    [
        ("LABEL=", RootSpecKind.Label), ("UUID=", RootSpecKind.Uuid),
        ("PARTUUID=", RootSpecKind.PartUuid), ("PARTLABEL=", RootSpecKind.PartLabel),
        ("/dev/disk/by-label/", RootSpecKind.Label), ("/dev/disk/by-uuid/", RootSpecKind.Uuid),
        ("/dev/disk/by-partuuid/", RootSpecKind.PartUuid), ("/dev/disk/by-partlabel/", RootSpecKind.PartLabel),
    ];

    public static RootSpec Parse(string text)
    {
        foreach (var (prefix, kind) in Tags)
        {
            if (text.StartsWith(prefix, StringComparison.Ordinal) && text.Length > prefix.Length)
            {
                return new RootSpec(kind, text[prefix.Length..], text);
            }
        }
        if (text.StartsWith("/dev/", StringComparison.Ordinal) && text.Length > 5)
        {
            return new RootSpec(RootSpecKind.Path, text, text);
        }
        throw new FormatException($"\"{text}\" is not a device name: expected /dev/NAME, LABEL=, UUID=, PARTUUID= or PARTLABEL=");
    }

    public bool Matches(BlockDevice device) => Kind switch
    {
        RootSpecKind.Path => device.DevicePath == Value || (device.MapperName is { } mapped && Value == "/dev/mapper/" + mapped),
        RootSpecKind.Label => device.Filesystem?.Label == Value,
        // UUIDs are compared without case, as blkid and the kernel do.
        RootSpecKind.Uuid => string.Equals(device.Filesystem?.Uuid, Value, StringComparison.OrdinalIgnoreCase),
        RootSpecKind.PartUuid => string.Equals(device.Partition?.PartUuid, Value, StringComparison.OrdinalIgnoreCase),
        RootSpecKind.PartLabel => device.Partition?.PartLabel == Value,
        _ => false,
    };

    /// <summary>The single matching device; several matches are an error, not a guess.</summary>
    public BlockDevice? Find(IReadOnlyList<BlockDevice> devices)
    {
        var matches = devices.Where(Matches).ToList();
        return matches.Count switch
        {
            0 => null,
            1 => matches[0],
            _ => throw new InvalidOperationException($"root={Text} matches {matches.Count} devices: {string.Join(", ", matches.Select(m => m.Name))}"),
        };
    }
}

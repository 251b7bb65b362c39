using InitOs.Tools;

namespace InitOs.ImageBuild.Oci;

/// <summary>
/// An image in podman's storage (/var/lib/containers/storage for root,
/// ~/.local/share/containers/storage for a user, or the one <c>--root</c> names), exported
/// through `podman image save --format oci-archive`: the storage's own layout (overlay diff
/// directories with overlayfs whiteouts, tar-split files, layers.json) is containers/storage's
/// internal format, versioned with podman; its save command is the stable way out, and the
/// archive it writes is checked like any other (<see cref="OciImage"/>).
/// </summary>
public static class PodmanImage
{
    /// <summary>
    /// Writes <paramref name="nameOrId"/> as an OCI archive at <paramref name="archive"/>. For
    /// another storage than the caller's default only its root is named: podman takes the
    /// driver, run root and temporary directory that storage's database recorded.
    /// </summary>
    public static void Save(string nameOrId, string archive, string? storageRoot = null)
    {
        var args = new List<string>();
        if (storageRoot is not null)
        {
            args.AddRange(["--root", storageRoot, "--events-backend", "none"]);
        }
        args.AddRange(["image", "save", "--quiet", "--format", "oci-archive", "--output", archive, nameOrId]);
        var result = ExternalTool.Exec("podman", args);
        if (result.Code != 0)
        {
            throw new ArgumentException($"podman image {nameOrId}{(storageRoot is null ? "" : $" (storage {storageRoot})")}: podman image save exited {result.Code}: {result.Err.Trim()}");
        }
    }
}

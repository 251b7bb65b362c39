namespace InitOs.ImageBuild.Qemu;

/// <summary>
/// A private, writable copy of an OVMF variable store for one boot: the firmware writes to it
/// (boot entries, enrolled keys), and the packaged file must stay as it is. Deleted on dispose.
/// </summary>
public sealed class VarsCopy : IDisposable
{
    private VarsCopy(string path) => Path = path;

    public string Path { get; }

    public static VarsCopy Of(string template)
    {
        if (!File.Exists(template))
        {
            throw new FileNotFoundException($"the UEFI variable store {template} does not exist (Debian's ovmf package has them)");
        }
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"initos-vars-{Guid.NewGuid():N}.fd");
        File.Copy(template, path);
        return new VarsCopy(path);
    }

    public void Dispose() => File.Delete(Path);
}

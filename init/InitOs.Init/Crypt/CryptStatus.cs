namespace InitOs.Init.Crypt;

/// <summary>
/// How each volume was opened this boot, for `status`: /run/initos/crypt/volumes, one line
/// per volume, "NAME<TAB>DEVICE<TAB>HOW".
/// </summary>
public static class CryptStatus
{
    public const string Path = "/run/initos/crypt/volumes";

    public static void Record(string name, string device, string how, string path = Path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.AppendAllText(path, $"{name}\t{device}\t{how}\n");
    }

    /// <summary>(name, device, how) of each opened volume; none when the boot opened none.</summary>
    public static IReadOnlyList<(string Name, string Device, string How)> Read(string path = Path) =>
        File.Exists(path)
            ? File.ReadAllLines(path).Select(l => l.Split('\t')).Where(w => w.Length == 3).Select(w => (w[0], w[1], w[2])).ToList()
            : [];
}

using System.Text;
using InitOs.Efi.Pe;
using InitOs.Efi.Uki;

namespace InitOs.TestKit;

/// <summary>A small PE for tests that need "a UKI of release V": Debian's stub with only an .osrel (no kernel; never booted).</summary>
public static class TestUki
{
    public static string Write(string path, string release)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var osRelease = InitOs.Init.BuildVersion.OsReleaseFor(release);
        File.WriteAllBytes(path, UkiWriter.Build(PeImage.Load(UkiSpec.DefaultStub), [new NewSection(".osrel", Encoding.UTF8.GetBytes(osRelease)), new NewSection(".linux", new byte[512], PeSection.ReadExecuteCode)], UkiSpec.DefaultSbatLine, 0));
        return path;
    }
}

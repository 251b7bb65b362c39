namespace InitOs.JailTests;

/// <summary>A directory or file some tool makes on first use, removed afterwards when it was not there before.</summary>
public sealed class RemovedAfterwards(string path) : IDisposable
{
    private readonly bool _existed = Directory.Exists(path) || File.Exists(path);

    public void Dispose()
    {
        if (!_existed && Directory.Exists(path))
        {
            Directory.Delete(path, true);
        }
        else if (!_existed && File.Exists(path))
        {
            File.Delete(path);
        }
    }
}

namespace InitOs.Os;

/// <summary>
/// The OS console's log file under /run: its first <c>limit</c> bytes of each boot. A full
/// /run (or any write error) ends the logging, said once, never the relay: the OS's console
/// output must keep flowing, or the OS blocks on its next write to a console nobody drains.
/// </summary>
internal sealed class ConsoleLog : IDisposable
{
    private readonly string _path;
    private readonly long _limit;
    private FileStream? _file;

    public ConsoleLog(string path, long limit)
    {
        _path = path;
        _limit = limit;
        try
        {
            _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Stop(e);
        }
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (_file is null || _file.Length >= _limit)
        {
            return;
        }
        try
        {
            _file.Write(bytes);
            _file.Flush();
        }
        catch (IOException e)
        {
            Stop(e);
        }
    }

    private void Stop(Exception e)
    {
        Init.Logging.BootLog.Instance.Warn($"os: console log {_path}: {e.Message}; the console is still relayed, no longer logged");
        Dispose();
    }

    public void Dispose()
    {
        try
        {
            _file?.Dispose();
        }
        catch (IOException)
        {
            // Flushing the rest failed the same way: nothing more to save.
        }
        _file = null;
    }
}

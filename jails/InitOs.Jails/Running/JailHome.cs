using System.Globalization;
using System.Text;
using InitOs.Jails.Planning;
using InitOs.Sys;

namespace InitOs.Jails.Running;

/// <summary>
/// HOME for a program whose environment has none, as runc sets it: the home of its uid in the
/// jail's own /etc/passwd, else "/". The file is the jail's (hostile input): opened with
/// RESOLVE_IN_ROOT from the jail's root, only a regular file, never blocking, at most 1 MiB.
/// </summary>
public static class JailHome
{
    private const int MostBytes = 1 << 20;

    /// <param name="root">The jail's root as a directory path: "/" from inside, /proc/PID/root from the host.</param>
    public static ProcessPlan WithHome(ProcessPlan process, string root)
    {
        if (process.Env.Any(e => e.StartsWith("HOME=", StringComparison.Ordinal)))
        {
            return process;
        }
        var home = HomeOf(process.Uid, ReadPasswd(root));
        return process with { Env = [.. process.Env, "HOME=" + (home ?? "/")] };
    }

    /// <summary>The home field of the first passwd line whose uid is <paramref name="uid"/>; null when none.</summary>
    public static string? HomeOf(uint uid, string passwd)
    {
        foreach (var line in passwd.Split('\n'))
        {
            var fields = line.Split(':');
            if (fields.Length >= 6 && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id == uid && fields[5].Length > 0)
            {
                return fields[5];
            }
        }
        return null;
    }

    private static string ReadPasswd(string root)
    {
        int rootFd;
        try
        {
            rootFd = Files.Open(root, OpenFlags.PathOnly | OpenFlags.Directory | OpenFlags.CloseOnExec);
        }
        catch (SysException)
        {
            return "";
        }
        try
        {
            if (FilesAt.TryOpenInRoot(rootFd, "etc/passwd", OpenFlags.ReadOnly | OpenFlags.NonBlocking | OpenFlags.NoCtty, out int fd) != Errno.None)
            {
                return "";
            }
            try
            {
                return FilesAt.StatusOf(fd, "/etc/passwd").IsRegularFile ? ReadUpTo(fd, MostBytes) : "";
            }
            finally
            {
                Files.Close(fd);
            }
        }
        finally
        {
            Files.Close(rootFd);
        }
    }

    private static string ReadUpTo(int fd, int limit)
    {
        var buffer = new byte[limit];
        int total = 0, n;
        while (total < limit && (n = Files.Read(fd, buffer.AsSpan(total))) > 0)
        {
            total += n;
        }
        return Encoding.UTF8.GetString(buffer, 0, total);
    }
}

using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>The process's user and groups: dropped for good, as su and gosu drop them.</summary>
public static class Credentials
{
    public static uint EffectiveUserId => Libc.Geteuid();

    public static uint EffectiveGroupId => Libc.Getegid();

    /// <summary>
    /// setgroups, then setresgid, then setresuid (real, effective and saved alike, so nothing
    /// can be taken back). glibc applies each to every thread of the process.
    /// </summary>
    public static unsafe void Become(uint uid, uint gid, IReadOnlyList<uint> supplementaryGroups)
    {
        var groups = supplementaryGroups.ToArray();
        fixed (uint* list = groups)
        {
            if (Libc.Setgroups((nuint)groups.Length, list) != 0)
            {
                throw SysException.FromLastError($"setgroups({string.Join(',', groups)})");
            }
        }
        if (Libc.Setresgid(gid, gid, gid) != 0)
        {
            throw SysException.FromLastError($"setresgid({gid})");
        }
        if (Libc.Setresuid(uid, uid, uid) != 0)
        {
            throw SysException.FromLastError($"setresuid({uid})");
        }
    }
}

namespace InitOs.Jails.Seccomp;

/// <summary>x86_64 syscall numbers by name (the generated table beside this file).</summary>
internal static partial class SyscallTable
{
    public static bool TryGetNumber(string name, out int number) => X86_64.TryGetValue(name, out number);

    public static IEnumerable<KeyValuePair<string, int>> All => X86_64;
}

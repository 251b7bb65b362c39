namespace InitOs.Jails.Seccomp;

/// <summary>x86_64 syscall numbers by name (the generated table beside this file).</summary>
internal static partial class SyscallTable
{
    public static bool TryGetNumber(string name, out int number) => X86_64.TryGetValue(name, out number);

    /// <summary>The number of a syscall InitOS itself names (so a missing one is InitOS's bug).</summary>
    public static int NumberOf(string name) =>
        X86_64.TryGetValue(name, out var number) ? number : throw new KeyNotFoundException($"{name} is not in the x86_64 syscall table");

    public static IEnumerable<KeyValuePair<string, int>> All => X86_64;
}

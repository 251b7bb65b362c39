using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// A password against a crypt(3) hash (SHA-512 "$6$", yescrypt "$y$"), with libxcrypt as
/// sulogin and login use it: the hash is the setting, and the result must equal it. Compared
/// in constant time. No libcrypt, a hash libcrypt rejects, or any failure: not a match.
/// </summary>
public static class CryptPassword
{
    public static bool Matches(string password, string hash)
    {
        string? computed;
        try
        {
            nint result = Libc.Crypt(password, hash);
            computed = result == 0 ? null : Marshal.PtrToStringUTF8(result);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new InvalidOperationException($"{Libc.CryptLibrary} is not in this initramfs, so no password can be checked", e);
        }
        // libxcrypt answers a bad setting with "*0" or "*1" (never a valid hash), or null.
        return computed is not null && !computed.StartsWith('*') && FixedTimeEquals(computed, hash);
    }

    private static bool FixedTimeEquals(string a, string b)
    {
        int difference = a.Length ^ b.Length;
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            difference |= a[i] ^ b[i];
        }
        return difference == 0;
    }
}

using System.Runtime.InteropServices;

namespace InitOs.Sys.Interop;

internal static partial class Libc
{
    /// <summary>libxcrypt, loaded on first use: only an initramfs with a recovery password carries it.</summary>
    internal const string CryptLibrary = "libcrypt.so.1";

    [LibraryImport(CryptLibrary, EntryPoint = "crypt", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint Crypt(string phrase, string setting);
}

namespace InitOs.Sys.Interop;

/// <summary>
/// Raw libc bindings, one partial file per function family. No policy lives here:
/// callers check the return value and read errno through <see cref="SysException"/>.
/// </summary>
internal static partial class Libc
{
    internal const string Name = "libc";
}

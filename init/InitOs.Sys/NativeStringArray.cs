using System.Runtime.InteropServices;

namespace InitOs.Sys;

/// <summary>A NULL-terminated char*[] in native memory, for argv and envp.</summary>
internal sealed class NativeStringArray : IDisposable
{
    private readonly nint[] _strings;

    public NativeStringArray(IReadOnlyList<string> values)
    {
        _strings = new nint[values.Count];
        Pointer = Marshal.AllocHGlobal((values.Count + 1) * nint.Size);
        for (int i = 0; i < values.Count; i++)
        {
            _strings[i] = Marshal.StringToCoTaskMemUTF8(values[i]);
            Marshal.WriteIntPtr(Pointer, i * nint.Size, _strings[i]);
        }
        Marshal.WriteIntPtr(Pointer, values.Count * nint.Size, 0);
    }

    public nint Pointer { get; }

    public void Dispose()
    {
        foreach (var s in _strings)
        {
            Marshal.FreeCoTaskMem(s);
        }
        Marshal.FreeHGlobal(Pointer);
    }
}

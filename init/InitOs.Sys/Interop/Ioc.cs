namespace InitOs.Sys.Interop;

/// <summary>
/// The kernel's ioctl request encoding (asm-generic/ioctl.h, used by x86-64 and arm64):
/// direction in bits 30-31, argument size in bits 16-29, type in bits 8-15, number in bits 0-7.
/// "Write" and "Read" are from user space's point of view, as in _IOW and _IOR.
/// </summary>
internal static class Ioc
{
    private const uint DirectionWrite = 1;
    private const uint DirectionRead = 2;

    internal static uint Write(uint type, uint number, int size) => Encode(DirectionWrite, type, number, size);

    internal static uint Read(uint type, uint number, int size) => Encode(DirectionRead, type, number, size);

    internal static uint ReadWrite(uint type, uint number, int size) => Encode(DirectionRead | DirectionWrite, type, number, size);

    private static uint Encode(uint direction, uint type, uint number, int size) =>
        (direction << 30) | ((uint)size << 16) | (type << 8) | number;
}

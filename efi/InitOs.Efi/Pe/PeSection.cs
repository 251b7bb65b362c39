namespace InitOs.Efi.Pe;

/// <summary>One section header of a PE image (40 bytes in the file).</summary>
public sealed record PeSection
{
    public const int HeaderSize = 40;
    public const uint Code = 0x20, InitializedData = 0x40, Execute = 0x20000000, Read = 0x40000000;
    /// <summary>What the UKI's data sections are: initialized, read-only data.</summary>
    public const uint ReadOnlyData = InitializedData | Read;
    /// <summary>.linux is code: the stub jumps into it.</summary>
    public const uint ReadExecuteCode = Code | Execute | Read;

    public required string Name { get; init; }
    public uint VirtualSize { get; init; }
    public uint VirtualAddress { get; init; }
    public uint SizeOfRawData { get; init; }
    public uint PointerToRawData { get; init; }
    public uint Characteristics { get; init; }

    public ulong VirtualEnd => (ulong)VirtualAddress + Math.Max(VirtualSize, SizeOfRawData);

    public ulong RawEnd => (ulong)PointerToRawData + SizeOfRawData;
}

using System.Buffers.Binary;

namespace InitOs.UnitTests.Jails;

/// <summary>
/// Runs a compiled seccomp program over one call as the kernel would (the classic BPF subset
/// InitOS emits), so a test can ask what a filter answers without making the call.
/// </summary>
internal static class BpfInterpreter
{
    public const uint ArchX86_64 = 0xC000003E;

    public static uint Run(byte[] program, int number, params ulong[] args) => Run(program, ArchX86_64, number, args);

    public static uint Run(byte[] program, uint arch, int number, params ulong[] args)
    {
        var data = new byte[64]; // struct seccomp_data
        BinaryPrimitives.WriteInt32LittleEndian(data, number);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), arch);
        for (int i = 0; i < args.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(16 + (8 * i)), args[i]);
        }
        uint a = 0;
        for (int pc = 0; pc < program.Length / 8;)
        {
            var slot = program.AsSpan(pc * 8, 8);
            ushort op = BinaryPrimitives.ReadUInt16LittleEndian(slot);
            byte jt = slot[2], jf = slot[3];
            uint k = BinaryPrimitives.ReadUInt32LittleEndian(slot[4..]);
            pc++;
            switch (op)
            {
                case 0x20: a = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)k)); break;
                case 0x54: a &= k; break;
                case 0x05: pc += (int)k; break;
                case 0x15: pc += a == k ? jt : jf; break;
                case 0x35: pc += a >= k ? jt : jf; break;
                case 0x25: pc += a > k ? jt : jf; break;
                case 0x06: return k;
                default: throw new InvalidOperationException($"opcode 0x{op:x} at {pc - 1} is not one InitOS emits");
            }
        }
        throw new InvalidOperationException("the program ran off its end");
    }
}

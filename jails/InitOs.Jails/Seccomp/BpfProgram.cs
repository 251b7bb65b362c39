namespace InitOs.Jails.Seccomp;

/// <summary>
/// Compiles a <see cref="SeccompPolicy"/> into classic BPF for SECCOMP_MODE_FILTER: wrong
/// architecture → kill; x32 numbers → the default; device-node mknod → EPERM; each argument
/// rule whose conditions hold → its verdict; each listed syscall → its verdict; else → the default. 8 bytes per instruction (sock_filter).
/// </summary>
public static class BpfProgram
{
    private const uint AuditArchX86_64 = 0xC000003E;
    private const uint X32SyscallBit = 0x40000000;
    internal const int OffsetNr = 0;
    private const int OffsetArch = 4;
    internal const int OffsetArgs = 16;
    private const uint FileTypeMask = 0xF000; // S_IFMT
    private const uint BlockDevice = 0x6000;  // S_IFBLK
    private const uint CharDevice = 0x2000;   // S_IFCHR

    // Classic BPF opcodes.
    internal const ushort LoadWordAbs = 0x20;  // BPF_LD | BPF_W | BPF_ABS
    internal const ushort JumpEq = 0x15;       // BPF_JMP | BPF_JEQ | BPF_K
    internal const ushort JumpGt = 0x25;       // BPF_JMP | BPF_JGT | BPF_K (unsigned)
    internal const ushort JumpGe = 0x35;       // BPF_JMP | BPF_JGE | BPF_K (unsigned)
    internal const ushort AndK = 0x54;         // BPF_ALU | BPF_AND | BPF_K
    internal const ushort JumpAlways = 0x05;   // BPF_JMP | BPF_JA
    internal const ushort Return = 0x06;       // BPF_RET | BPF_K

    public static byte[] Compile(SeccompPolicy policy)
    {
        var code = new List<(ushort Op, byte Jt, byte Jf, uint K)>
        {
            (LoadWordAbs, 0, 0, OffsetArch),
            (JumpEq, 1, 0, AuditArchX86_64),
            (Return, 0, 0, SeccompAction.KillProcess.Value),
            (LoadWordAbs, 0, 0, OffsetNr),
            (JumpGe, 0, 1, X32SyscallBit),
            (Return, 0, 0, policy.Default.Value),
        };
        if (policy.DenyDeviceNodes)
        {
            AddDeviceNodeCheck(code, "mknod", modeArgument: 1);
            AddDeviceNodeCheck(code, "mknodat", modeArgument: 2);
        }
        foreach (var rule in policy.ArgumentRules)
        {
            ArgumentRuleCode.Add(code, rule);
        }
        foreach (var (number, action) in policy.Rules.OrderBy(r => r.Key))
        {
            if (action == policy.Default)
            {
                continue;
            }
            code.Add((JumpEq, 0, 1, (uint)number));
            code.Add((Return, 0, 0, action.Value));
        }
        code.Add((Return, 0, 0, policy.Default.Value));
        if (code.Count > ushort.MaxValue)
        {
            throw new InvalidOperationException($"seccomp program of {code.Count} instructions is too long");
        }
        return Encode(code);
    }

    // if (nr == mknod*) { A = mode & S_IFMT; if (A == S_IFBLK || A == S_IFCHR) return EPERM; A = nr; }
    // then on to the rules, so a policy's own verdict for mknod still applies to FIFOs and sockets.
    private static void AddDeviceNodeCheck(List<(ushort, byte, byte, uint)> code, string syscall, int modeArgument)
    {
        if (!SyscallTable.TryGetNumber(syscall, out var number))
        {
            return;
        }
        code.Add((JumpEq, 0, 7, (uint)number));
        code.Add((LoadWordAbs, 0, 0, (uint)(OffsetArgs + 8 * modeArgument)));
        code.Add((AndK, 0, 0, FileTypeMask));
        code.Add((JumpEq, 2, 0, BlockDevice));
        code.Add((JumpEq, 1, 0, CharDevice));
        code.Add((JumpAlways, 0, 0, 1));
        code.Add((Return, 0, 0, SeccompAction.Errno(1).Value));
        code.Add((LoadWordAbs, 0, 0, OffsetNr));
    }

    private static byte[] Encode(List<(ushort Op, byte Jt, byte Jf, uint K)> code)
    {
        var bytes = new byte[code.Count * 8];
        for (int i = 0; i < code.Count; i++)
        {
            var (op, jt, jf, k) = code[i];
            var slot = bytes.AsSpan(i * 8);
            BitConverter.TryWriteBytes(slot, op);
            slot[2] = jt;
            slot[3] = jf;
            BitConverter.TryWriteBytes(slot[4..], k);
        }
        return bytes;
    }
}

namespace InitOs.Jails.Seccomp;

/// <summary>
/// The BPF of one <see cref="ArgumentRule"/>: if the number matches and every condition holds,
/// return the verdict; otherwise reload the number and go on. A 64-bit argument is two 32-bit
/// words (little-endian: low word first); a condition whose high halves are zero skips them.
/// </summary>
internal static class ArgumentRuleCode
{
    private const int Fail = -1;

    // Jump targets are indexes into the block (or Fail) until the block is finished.
    private readonly record struct Pending(ushort Op, int True, int False, uint K);

    public static void Add(List<(ushort Op, byte Jt, byte Jf, uint K)> code, ArgumentRule rule)
    {
        var block = new List<Pending> { default }; // [0]: the number test, written last
        foreach (var condition in rule.Conditions)
        {
            AddCondition(block, condition);
        }
        block.Add(new Pending(BpfProgram.Return, 0, 0, rule.Action.Value));
        int fail = block.Count;
        block.Add(new Pending(BpfProgram.LoadWordAbs, 0, 0, BpfProgram.OffsetNr));
        int after = block.Count;
        block[0] = new Pending(BpfProgram.JumpEq, 1, after, (uint)rule.Number);
        for (int i = 0; i < block.Count; i++)
        {
            var p = block[i];
            code.Add((p.Op, Relative(i, p.True, fail), Relative(i, p.False, fail), p.K));
        }
    }

    private static void AddCondition(List<Pending> block, ArgumentCondition condition)
    {
        uint low = (uint)(BpfProgram.OffsetArgs + (8 * condition.Index));
        uint high = low + 4;
        switch (condition.Comparison)
        {
            case ArgumentComparison.Equal:
                AddWordEqual(block, low, mask: uint.MaxValue, (uint)condition.Value);
                AddWordEqual(block, high, mask: uint.MaxValue, (uint)(condition.Value >> 32));
                break;
            case ArgumentComparison.MaskedEqual:
                AddWordEqual(block, low, (uint)condition.Value, (uint)condition.ValueTwo);
                if ((condition.Value >> 32) != 0 || (condition.ValueTwo >> 32) != 0)
                {
                    AddWordEqual(block, high, (uint)(condition.Value >> 32), (uint)(condition.ValueTwo >> 32));
                }
                break;
            case ArgumentComparison.NotEqual:
                // Holds when either half differs: low differs → next condition; else high must differ.
                int next = block.Count + 4;
                block.Add(new Pending(BpfProgram.LoadWordAbs, 0, 0, low));
                block.Add(new Pending(BpfProgram.JumpEq, block.Count + 1, next, (uint)condition.Value));
                block.Add(new Pending(BpfProgram.LoadWordAbs, 0, 0, high));
                block.Add(new Pending(BpfProgram.JumpEq, Fail, next, (uint)(condition.Value >> 32)));
                break;
            case ArgumentComparison.GreaterThan or ArgumentComparison.GreaterOrEqual or ArgumentComparison.LessThan or ArgumentComparison.LessOrEqual:
                AddOrdered(block, low, high, condition);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(condition), condition.Comparison, "not a comparison InitOS compiles");
        }
    }

    /// <summary>
    /// An unsigned 64-bit order from two 32-bit words: the high words decide unless equal, then
    /// the low ones do. "greater" holds when high &gt; V.high, or high == V.high and low &gt; (or &gt;=)
    /// V.low; "less" is the negation of "greater or equal" (or of "greater", for less-or-equal).
    /// </summary>
    private static void AddOrdered(List<Pending> block, uint low, uint high, ArgumentCondition condition)
    {
        bool greater = condition.Comparison is ArgumentComparison.GreaterThan or ArgumentComparison.GreaterOrEqual;
        bool strictLow = condition.Comparison is ArgumentComparison.GreaterThan or ArgumentComparison.LessOrEqual;
        uint valueHigh = (uint)(condition.Value >> 32), valueLow = (uint)condition.Value;
        int start = block.Count, next = start + 5, equalHigh = start + 2, compareLow = start + 3;
        block.Add(new Pending(BpfProgram.LoadWordAbs, 0, 0, high));
        // high > V.high: greater holds (less fails); high == V.high: look at low; high < V.high: the opposite.
        block.Add(greater
            ? new Pending(BpfProgram.JumpGt, next, equalHigh, valueHigh)
            : new Pending(BpfProgram.JumpGe, equalHigh, next, valueHigh));
        block.Add(new Pending(BpfProgram.JumpEq, compareLow, Fail, valueHigh));
        block.Add(new Pending(BpfProgram.LoadWordAbs, 0, 0, low));
        var lowJump = strictLow ? BpfProgram.JumpGt : BpfProgram.JumpGe;
        block.Add(greater ? new Pending(lowJump, next, Fail, valueLow) : new Pending(lowJump, Fail, next, valueLow));
    }

    // A = word; [A &= mask]; if (A != value) goto fail
    private static void AddWordEqual(List<Pending> block, uint offset, uint mask, uint value)
    {
        block.Add(new Pending(BpfProgram.LoadWordAbs, 0, 0, offset));
        if (mask != uint.MaxValue)
        {
            block.Add(new Pending(BpfProgram.AndK, 0, 0, mask));
        }
        block.Add(new Pending(BpfProgram.JumpEq, block.Count + 1, Fail, value));
    }

    // Targets in the block → the relative jumps of classic BPF (after the instruction itself).
    private static byte Relative(int at, int target, int fail)
    {
        if (target == 0)
        {
            return 0; // not a jump (or the test written last, whose targets are never 0)
        }
        int distance = (target == Fail ? fail : target) - at - 1;
        return distance is >= 0 and <= byte.MaxValue
            ? (byte)distance
            : throw new InvalidOperationException($"an argument rule of {at} instructions is too long for a BPF jump");
    }
}

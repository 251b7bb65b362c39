using InitOs.Sys;

namespace InitOs.UnitTests.Sys;

public sealed class ProcStatTests
{
    private const string Tail = " 142 142 0 -1 4194560 120 0 0 0 1 2 0 0 20 0 3 0 987654 1000 200";

    [Fact]
    public void A_stat_line_with_spaces_and_parentheses_in_the_name_parses()
    {
        Assert.Equal(new ProcStat(204, ".NET SigHandler", 'S', 142, 987654), ProcStat.Parse(204, "204 (.NET SigHandler) S 142" + Tail));
        Assert.Equal(new ProcStat(7, "a) (b", 'Z', 3, 987654), ProcStat.Parse(7, "7 (a) (b) Z 3" + Tail));
        Assert.True(ProcStat.Parse(7, "7 (a) (b) Z 3" + Tail)!.Value.Ended);
        Assert.Null(ProcStat.Parse(7, "garbage"));
        Assert.Null(ProcStat.Parse(7, "7 (short) S 1 2 3"));
    }

    [Fact]
    public void This_process_reads_as_itself_and_a_gone_one_as_nothing()
    {
        var self = ProcStat.Read(Environment.ProcessId);
        Assert.NotNull(self);
        Assert.False(self.Value.Ended);
        Assert.True(self.Value.StartTime > 0);
        Assert.Null(ProcStat.Read(int.MaxValue));
    }
}

using InitOs.Jails.Oci;
using InitOs.Jails.Seccomp;

namespace InitOs.Jails.Planning;

/// <summary>linux.seccomp.syscalls[].args → argument conditions; a comparison InitOS does not compile is a problem, never ignored.</summary>
internal static class SeccompArguments
{
    /// <summary>The comparisons InitOS compiles, by their OCI names.</summary>
    public static readonly IReadOnlyDictionary<string, ArgumentComparison> Operators = new Dictionary<string, ArgumentComparison>(StringComparer.Ordinal)
    {
        ["SCMP_CMP_EQ"] = ArgumentComparison.Equal,
        ["SCMP_CMP_NE"] = ArgumentComparison.NotEqual,
        ["SCMP_CMP_MASKED_EQ"] = ArgumentComparison.MaskedEqual,
        ["SCMP_CMP_LT"] = ArgumentComparison.LessThan,
        ["SCMP_CMP_LE"] = ArgumentComparison.LessOrEqual,
        ["SCMP_CMP_GT"] = ArgumentComparison.GreaterThan,
        ["SCMP_CMP_GE"] = ArgumentComparison.GreaterOrEqual,
    };

    public static IReadOnlyList<ArgumentCondition> Conditions(IReadOnlyList<OciSyscallArg>? args, string field, Action<string, string> problem)
    {
        var conditions = new List<ArgumentCondition>();
        foreach (var (arg, i) in (args ?? []).Select((a, i) => (a, i)))
        {
            if (arg.Index is not { } index || index > ArgumentCondition.MaxIndex)
            {
                problem($"{field}[{i}].index", $"{Shown(arg.Index)} is not an argument index (0 to {ArgumentCondition.MaxIndex})");
                continue;
            }
            if (Comparison(arg.Op) is not { } comparison)
            {
                problem($"{field}[{i}].op", $"\"{arg.Op}\" is not a comparison InitOS compiles ({string.Join(", ", Operators.Keys)})");
                continue;
            }
            conditions.Add(new ArgumentCondition((int)index, comparison, arg.Value, arg.ValueTwo));
        }
        return conditions;
    }

    private static ArgumentComparison? Comparison(string? op) =>
        op is not null && Operators.TryGetValue(op, out var comparison) ? comparison : null;

    private static string Shown(uint? index) => index?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";
}

namespace InitOs.Jails.Seccomp;

/// <summary>How an argument is compared (OCI's SCMP_CMP_* that InitOS compiles).</summary>
public enum ArgumentComparison
{
    /// <summary>argument == Value</summary>
    Equal,
    /// <summary>argument != Value</summary>
    NotEqual,
    /// <summary>(argument &amp; Value) == ValueTwo, as libseccomp and OCI define it</summary>
    MaskedEqual,
    /// <summary>argument &lt; Value (unsigned 64-bit, as libseccomp compares)</summary>
    LessThan,
    /// <summary>argument &lt;= Value</summary>
    LessOrEqual,
    /// <summary>argument &gt; Value</summary>
    GreaterThan,
    /// <summary>argument &gt;= Value</summary>
    GreaterOrEqual,
}

/// <summary>One condition on a syscall argument (0–5), over all 64 bits.</summary>
public sealed record ArgumentCondition(int Index, ArgumentComparison Comparison, ulong Value, ulong ValueTwo = 0)
{
    public const int MaxIndex = 5;
}

/// <summary>
/// A verdict for one syscall when every condition holds. Rules are tried in order before the
/// plain per-syscall verdicts; a call that matches none falls through to those.
/// </summary>
public sealed record ArgumentRule(int Number, IReadOnlyList<ArgumentCondition> Conditions, SeccompAction Action);

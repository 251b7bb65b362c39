namespace InitOs.Os.Chain;

/// <summary>What a helper hands to the command it runs: the environment (KEY=VALUE, in order).</summary>
public sealed record ChainState(IReadOnlyList<string> Environment)
{
    public static ChainState Current() => new(System.Environment.GetEnvironmentVariables().Keys.Cast<string>()
        .Order(StringComparer.Ordinal)
        .Select(k => $"{k}={System.Environment.GetEnvironmentVariable(k)}")
        .ToList());

    /// <summary>This environment with <paramref name="values"/> set (replacing earlier values of the same names).</summary>
    public ChainState With(IEnumerable<KeyValuePair<string, string>> values)
    {
        var list = Environment.ToList();
        foreach (var (key, value) in values)
        {
            list.RemoveAll(e => e.StartsWith(key + "=", StringComparison.Ordinal));
            list.Add($"{key}={value}");
        }
        return new ChainState(list);
    }
}

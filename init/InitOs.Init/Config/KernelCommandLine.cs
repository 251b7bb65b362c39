namespace InitOs.Init.Config;

/// <summary>
/// The kernel command line split the way the kernel splits it: on spaces, with double
/// quotes grouping a value (key="a b"), and everything after "--" handed to init.
/// </summary>
public sealed class KernelCommandLine
{
    private readonly List<KeyValuePair<string, string?>> _parameters = [];

    private KernelCommandLine() { }

    /// <summary>Parameters in order; a flag such as "ro" has a null value.</summary>
    public IReadOnlyList<KeyValuePair<string, string?>> Parameters => _parameters;

    /// <summary>Words after "--": the kernel passes them to init as arguments.</summary>
    public IReadOnlyList<string> InitArguments { get; private set; } = [];

    public static KernelCommandLine Parse(string text)
    {
        var result = new KernelCommandLine();
        var words = SplitWords(text);
        int dashes = words.IndexOf("--");
        if (dashes >= 0)
        {
            result.InitArguments = words[(dashes + 1)..];
            words = words[..dashes];
        }
        foreach (var word in words)
        {
            int eq = word.IndexOf('=', StringComparison.Ordinal);
            result._parameters.Add(eq < 0
                ? new(word, null)
                : new(word[..eq], word[(eq + 1)..]));
        }
        return result;
    }

    /// <summary>The last value given for a key (the kernel's rule: later wins).</summary>
    public string? Last(string key)
    {
        for (int i = _parameters.Count - 1; i >= 0; i--)
        {
            if (_parameters[i].Key == key)
            {
                return _parameters[i].Value ?? "";
            }
        }
        return null;
    }

    public bool Has(string key) => _parameters.Any(p => p.Key == key);

    /// <summary>The index of the last occurrence, -1 if absent: decides "ro" against "rw".</summary>
    public int LastIndexOf(string key) => _parameters.FindLastIndex(p => p.Key == key);

    public IEnumerable<string> All(string key) =>
        _parameters.Where(p => p.Key == key).Select(p => p.Value ?? "");

    private static List<string> SplitWords(string text)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false, inWord = false;
        foreach (char c in text)
        {
            if (c == '"')
            {
                quoted = !quoted;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c) && !quoted)
            {
                Flush();
            }
            else
            {
                current.Append(c);
                inWord = true;
            }
        }
        Flush();
        return words;

        void Flush()
        {
            if (inWord)
            {
                words.Add(current.ToString());
            }
            current.Clear();
            inWord = false;
        }
    }
}

using System.Text.RegularExpressions;

namespace InitOs.Os.Chain;

/// <summary>
/// `chain env FILE`: KEY=VALUE lines added to the environment, as `docker run --env-file`
/// reads them: the value is everything after the first "=", taken literally (no quotes
/// removed, nothing expanded); blank lines and lines starting with # are skipped. A bad line
/// stops the chain with FILE:LINE.
/// </summary>
public static partial class EnvStep
{
    public static ChainState Run(IReadOnlyList<string> args, ChainState state)
    {
        if (args.Count != 1)
        {
            throw new ChainException("expects one FILE of KEY=VALUE lines");
        }
        var text = ChainFiles.ReadText(args[0], "env file");
        return state.With(Parse(args[0], text));
    }

    public static IReadOnlyList<KeyValuePair<string, string>> Parse(string file, string text)
    {
        var values = new List<KeyValuePair<string, string>>();
        foreach (var (number, line) in ChainFiles.Lines(text))
        {
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                throw new ChainException($"{file}:{number}: \"{line}\" is not KEY=VALUE");
            }
            var key = line[..equals];
            if (!Name().IsMatch(key))
            {
                throw new ChainException($"{file}:{number}: \"{key}\" is not a variable name (letters, digits and _, not starting with a digit)");
            }
            values.Add(new(key, line[(equals + 1)..]));
        }
        return values;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Name();
}

namespace InitOs.Os.Chain;

/// <summary>A helper's own arguments and, after the first "--", the command it runs next.</summary>
public sealed record ChainArguments(IReadOnlyList<string> HelperArguments, IReadOnlyList<string> Command)
{
    public static ChainArguments Split(string helper, IReadOnlyList<string> args)
    {
        int separator = args.ToList().IndexOf("--");
        if (separator < 0)
        {
            throw new ChainException($"no \"--\": the command to run after {helper} goes after it");
        }
        var command = args.Skip(separator + 1).ToList();
        if (command.Count == 0)
        {
            throw new ChainException($"nothing after \"--\": {helper} needs a command to run next");
        }
        return new ChainArguments(args.Take(separator).ToList(), command);
    }
}

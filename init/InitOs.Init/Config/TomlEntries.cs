using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace InitOs.Init.Config;

/// <summary>One key = value of a TOML file, flattened to its dotted path, with its line.</summary>
public sealed record TomlEntry(string Key, ValueSyntax Value, int Line);

/// <summary>
/// Reads TOML with Tomlyn's syntax tree (not its object mapper) because the tree keeps
/// the line of every key, which is what an error message needs.
/// </summary>
public static class TomlEntries
{
    public static IReadOnlyList<TomlEntry> Parse(string text, string file)
    {
        DocumentSyntax document = SyntaxParser.Parse(text, file, true);
        foreach (var message in document.Diagnostics)
        {
            if (message.Kind == DiagnosticMessageKind.Error)
            {
                throw new ConfigException(file, LineOf(message.Span), null, message.Message);
            }
        }
        var entries = new List<TomlEntry>();
        AddAll(entries, "", document.KeyValues, file);
        foreach (var table in document.Tables)
        {
            if (table is TableArraySyntax)
            {
                throw new ConfigException(file, LineOf(table.Span), KeyText(table.Name), "arrays of tables are not part of the InitOS config");
            }
            AddAll(entries, KeyText(table.Name) + ".", table.Items, file);
        }
        return entries;
    }

    private static void AddAll(List<TomlEntry> entries, string prefix, SyntaxList<KeyValueSyntax> items, string file)
    {
        foreach (var item in items)
        {
            if (item.Value is null)
            {
                throw new ConfigException(file, LineOf(item.Span), prefix + KeyText(item.Key), "missing value");
            }
            entries.Add(new TomlEntry(prefix + KeyText(item.Key), item.Value, LineOf(item.Span)));
        }
    }

    /// <summary>Tomlyn counts lines from 0; editors and error messages count from 1.</summary>
    public static int LineOf(SourceSpan span) => span.Start.Line + 1;

    private static string KeyText(KeySyntax? key)
    {
        if (key?.Key is null)
        {
            return "";
        }
        var parts = new List<string> { PartText(key.Key) };
        foreach (var dotted in key.DotKeys)
        {
            parts.Add(dotted.Key is null ? "" : PartText(dotted.Key));
        }
        return string.Join('.', parts);
    }

    private static string PartText(BareKeyOrStringValueSyntax part) => part switch
    {
        BareKeySyntax bare => bare.Key?.Text ?? "",
        StringValueSyntax quoted => quoted.Value ?? "",
        _ => part.ToString() ?? "",
    };
}

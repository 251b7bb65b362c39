using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace InitOs.Init.Config;

/// <summary>One key = value of a TOML file, flattened to its dotted path, with its line.</summary>
public sealed record TomlEntry(string Key, SyntaxNode Value, int Line);

/// <summary>Stands for the header line of one [[array]] table.</summary>
public sealed class TableHeader : SyntaxNode
{
    public TableHeader() : base(SyntaxKind.Table) { }

    public override int ChildrenCount => 0;

    public override void Accept(SyntaxVisitor visitor) { }

    protected override SyntaxNode? GetChildImpl(int index) => null;
}

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
        var arrayCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var table in document.Tables)
        {
            var name = KeyText(table.Name);
            if (table is TableArraySyntax)
            {
                // [[service]] blocks become service.0.*, service.1.* …; the header itself is an entry so
                // a block with no keys still exists and errors about it can name its line.
                int index = arrayCounts.GetValueOrDefault(name);
                arrayCounts[name] = index + 1;
                name = $"{name}.{index}";
                entries.Add(new TomlEntry(name, new TableHeader(), LineOf(table.Span)));
            }
            AddAll(entries, name + ".", table.Items, file);
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

namespace InitOs.Init.Modules;

/// <summary>fnmatch(3) without flags, as kmod matches modules.alias patterns: * ? [set] [!set] [a-z].</summary>
public static class Glob
{
    public static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starT = t;
            }
            else if (p < pattern.Length && MatchOne(pattern, ref p, text[t]))
            {
                t++;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }

    /// <summary>Matches one character at pattern[p]; on success advances p past the token.</summary>
    private static bool MatchOne(ReadOnlySpan<char> pattern, ref int p, char c)
    {
        if (pattern[p] == '?')
        {
            p++;
            return true;
        }
        if (pattern[p] != '[')
        {
            if (pattern[p] != c)
            {
                return false;
            }
            p++;
            return true;
        }
        int end = p + 1;
        bool negate = end < pattern.Length && (pattern[end] == '!' || pattern[end] == '^');
        if (negate) end++;
        int first = end;
        while (end < pattern.Length && (pattern[end] != ']' || end == first))
        {
            end++;
        }
        if (end >= pattern.Length)
        {
            // An unclosed '[' is a literal, as in fnmatch.
            if (c != '[') return false;
            p++;
            return true;
        }
        bool inSet = false;
        for (int i = first; i < end; i++)
        {
            if (i + 2 < end && pattern[i + 1] == '-')
            {
                inSet |= c >= pattern[i] && c <= pattern[i + 2];
                i += 2;
            }
            else
            {
                inSet |= pattern[i] == c;
            }
        }
        if (inSet == negate)
        {
            return false;
        }
        p = end + 1;
        return true;
    }
}

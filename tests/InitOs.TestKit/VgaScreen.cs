using System.Text;

namespace InitOs.TestKit;

/// <summary>
/// What a VGA text-mode screen shows, read two ways and checked against each other, OCR-free:
/// QEMU's screendump (the pixels a person sees) and the text memory at 0xB8000 (the characters
/// the kernel's console wrote). The screen is the 80×25 window of the text memory whose
/// characters have ink exactly where the picture's cells have ink; the console scrolls by
/// moving that window, so it is searched for.
/// </summary>
public sealed class VgaScreen
{
    public const int Columns = 80, Rows = 25;
    public const long TextMemory = 0xB8000;
    public const int TextMemorySize = 0x8000;

    private VgaScreen(IReadOnlyList<string> lines, int mismatches)
    {
        Lines = lines;
        Mismatches = mismatches;
    }

    /// <summary>The 25 lines on the screen, trailing blanks trimmed.</summary>
    public IReadOnlyList<string> Lines { get; }

    /// <summary>Cells whose ink in the picture disagreed with the character (the blinking cursor makes one).</summary>
    public int Mismatches { get; }

    /// <summary>The lines, each between newlines (so "\nLinux\n" finds a line that is just that).</summary>
    public string Text => "\n" + string.Join('\n', Lines) + "\n";

    /// <summary>The rows run together: a long line wrapped over several rows reads whole.</summary>
    public string Flat => string.Concat(Lines.Select(l => l.PadRight(Columns)));

    /// <summary>
    /// Captures the screen until it shows <paramref name="text"/> (60 s at most, as a person would
    /// look) with picture and text memory agreeing in all but <paramref name="tolerated"/> cells
    /// (the blinking cursor). The two are read one after the other and the display redraws on its
    /// own clock, so a screen still scrolling may disagree for a moment: only a disagreement that
    /// lasts until the deadline is an error.
    /// </summary>
    public static VgaScreen WaitFor(QmpClient qmp, string scratch, string text, int tolerated = 2)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var screen = Capture(qmp, scratch);
            bool shows = screen.Text.Contains(text, StringComparison.Ordinal) || screen.Flat.Contains(text, StringComparison.Ordinal);
            if (shows && screen.Mismatches <= tolerated)
            {
                return screen;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw shows
                    ? new InvalidDataException($"the picture and the text memory disagree in {screen.Mismatches} cells:{screen.Text}")
                    : new TimeoutException($"the screen never showed '{text}'; it shows:{screen.Text}");
            }
            Thread.Sleep(250);
        }
    }

    /// <summary>Reads the screen of a running machine through its QMP socket; files go to <paramref name="scratch"/>.</summary>
    public static VgaScreen Capture(QmpClient qmp, string scratch)
    {
        var picture = Path.Combine(scratch, "screen.ppm");
        var memory = Path.Combine(scratch, "vga-text.bin");
        qmp.Execute("screendump", new System.Text.Json.Nodes.JsonObject { ["filename"] = picture });
        qmp.Execute("pmemsave", new System.Text.Json.Nodes.JsonObject { ["val"] = TextMemory, ["size"] = TextMemorySize, ["filename"] = memory });
        return Match(ReadPpm(File.ReadAllBytes(picture)), File.ReadAllBytes(memory));
    }

    /// <summary>The window of <paramref name="text"/> (character, attribute pairs) that the picture shows.</summary>
    public static VgaScreen Match((int Width, int Height, byte[] Rgb) picture, byte[] text)
    {
        var ink = CellInk(picture);
        int totalRows = text.Length / (Columns * 2);
        int best = -1, bestMismatches = int.MaxValue;
        for (int origin = 0; origin + Rows <= totalRows; origin++)
        {
            int mismatches = 0;
            for (int row = 0; row < Rows && mismatches < bestMismatches; row++)
            {
                for (int column = 0; column < Columns; column++)
                {
                    if (HasInk(text[((origin + row) * Columns + column) * 2]) != ink[row, column])
                    {
                        mismatches++;
                    }
                }
            }
            if (mismatches < bestMismatches)
            {
                (best, bestMismatches) = (origin, mismatches);
            }
        }
        var lines = Enumerable.Range(best, Rows).Select(row => Line(text, row)).ToArray();
        return new VgaScreen(lines, bestMismatches);
    }

    private static string Line(byte[] text, int row)
    {
        var line = new StringBuilder(Columns);
        for (int column = 0; column < Columns; column++)
        {
            byte c = text[(row * Columns + column) * 2];
            line.Append(c is >= 0x20 and < 0x7F ? (char)c : ' ');
        }
        return line.ToString().TrimEnd();
    }

    /// <summary>Blank glyphs of code page 437: NUL, space and 0xFF.</summary>
    private static bool HasInk(byte c) => c is not (0x00 or 0x20 or 0xFF);

    /// <summary>Per character cell of the picture: whether it holds more than one colour.</summary>
    private static bool[,] CellInk((int Width, int Height, byte[] Rgb) picture)
    {
        int cellWidth = picture.Width / Columns, cellHeight = picture.Height / Rows;
        if (cellWidth < 8 || cellHeight < 8 || picture.Width % Columns != 0 || picture.Height % Rows != 0)
        {
            throw new InvalidDataException($"a {picture.Width}×{picture.Height} screen is not an 80×25 text mode");
        }
        var ink = new bool[Rows, Columns];
        for (int row = 0; row < Rows; row++)
        {
            for (int column = 0; column < Columns; column++)
            {
                int first = ((row * cellHeight) * picture.Width + column * cellWidth) * 3;
                for (int y = 0; y < cellHeight && !ink[row, column]; y++)
                {
                    for (int x = 0; x < cellWidth; x++)
                    {
                        int at = (((row * cellHeight) + y) * picture.Width + column * cellWidth + x) * 3;
                        if (picture.Rgb[at] != picture.Rgb[first] || picture.Rgb[at + 1] != picture.Rgb[first + 1] || picture.Rgb[at + 2] != picture.Rgb[first + 2])
                        {
                            ink[row, column] = true;
                            break;
                        }
                    }
                }
            }
        }
        return ink;
    }

    /// <summary>A binary PPM (P6, maxval 255) as QEMU's screendump writes it.</summary>
    public static (int Width, int Height, byte[] Rgb) ReadPpm(byte[] file)
    {
        int at = 0;
        string Token()
        {
            while (char.IsWhiteSpace((char)file[at]) || file[at] == '#')
            {
                if (file[at] == '#')
                {
                    while (file[at] != '\n')
                    {
                        at++;
                    }
                }
                at++;
            }
            int start = at;
            while (!char.IsWhiteSpace((char)file[at]))
            {
                at++;
            }
            return Encoding.ASCII.GetString(file, start, at - start);
        }
        if (Token() != "P6")
        {
            throw new InvalidDataException("not a binary PPM");
        }
        int width = int.Parse(Token(), System.Globalization.CultureInfo.InvariantCulture);
        int height = int.Parse(Token(), System.Globalization.CultureInfo.InvariantCulture);
        if (Token() != "255")
        {
            throw new InvalidDataException("PPM maxval is not 255");
        }
        at++; // the one whitespace before the pixels
        return (width, height, file.AsSpan(at, width * height * 3).ToArray());
    }
}

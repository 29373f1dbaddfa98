using System.Text;

namespace PortDashboard.Security;

/// <summary>
/// <c>PortDashboard hash-password [user]</c>: reads a password (typed twice without echo at a terminal, or one line from
/// standard input) and prints its hash on standard output, with how to configure it on standard error. Nothing is
/// stored; the app is not started.
/// </summary>
public static class HashPasswordCommand
{
    public const string Name = "hash-password";

    public const int MinimumPasswordLength = 12;

    public static bool Matches(string[] args) => args is [Name, ..];

    /// <summary>Runs the command on the console.</summary>
    public static int Run(string[] args) =>
        Run(args, Console.In, Console.Out, Console.Error, Console.IsInputRedirected ? null : ReadHidden);

    /// <param name="args">The command line, starting with <see cref="Name"/>; an optional user name follows.</param>
    /// <param name="input">Where a redirected password is read from.</param>
    /// <param name="output">Where the hash is written (alone on its line).</param>
    /// <param name="error">Where prompts and hints go.</param>
    /// <param name="readHidden">Reads a line without echo at a terminal; null when the input is redirected.</param>
    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error, Func<string, string?>? readHidden)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Length > 2 || (args.Length == 2 && (args[1].StartsWith('-') || args[1].Contains(':', StringComparison.Ordinal))))
        {
            error.WriteLine($"usage: {Name} [user]   (the password is read from the terminal, or one line from standard input)");
            return 2;
        }

        var user = args.Length == 2 ? args[1] : "<user>";
        string? password;
        if (readHidden is null)
        {
            password = input.ReadLine();
        }
        else
        {
            password = readHidden("Password: ");
            if (password is not null && readHidden("Again: ") != password)
            {
                error.WriteLine("The two passwords differ; nothing was hashed.");
                return 1;
            }
        }

        if (string.IsNullOrEmpty(password) || password.Length < MinimumPasswordLength)
        {
            error.WriteLine($"The password must be at least {MinimumPasswordLength} characters long; nothing was hashed.");
            return 1;
        }

        var hash = PasswordHashing.Hash(password);
        output.WriteLine(hash);
        error.WriteLine($"Configure it as {AuthOptions.SectionName}:Users:{user} in appsettings.json, or as the environment variable");
        error.WriteLine($"  {AuthOptions.SectionName.Replace(":", "__", StringComparison.Ordinal)}__Users__{user}='{hash}'");
        return 0;
    }

    private static string? ReadHidden(string prompt)
    {
        Console.Error.Write(prompt);
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    Console.Error.WriteLine();
                    return text.ToString();
                case ConsoleKey.Backspace when text.Length > 0:
                    text.Length--;
                    break;
                case ConsoleKey.Backspace:
                    break;
                default:
                    if (!char.IsControl(key.KeyChar))
                    {
                        text.Append(key.KeyChar);
                    }

                    break;
            }
        }
    }
}

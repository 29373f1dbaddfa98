using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace PortDashboard.EndToEnd.Tests.Container;

/// <summary>
/// What docker/Dockerfile and docker/compose.yaml tell the container runtime, read from the files themselves: the
/// final stage's ENV, EXPOSE, WORKDIR, USER, HEALTHCHECK and ENTRYPOINT, every stage's FROM and COPY sources, and the
/// compose service's settings. A small parser for the instructions the Dockerfile uses; YamlDotNet for compose.
/// </summary>
public sealed class ContainerDefinition
{
    public const string ServiceName = "portdashboard";

    private ContainerDefinition(string repositoryRoot)
    {
        RepositoryRoot = repositoryRoot;
    }

    public string RepositoryRoot { get; }

    /// <summary>The FROM image of each stage, in order (ARGs not substituted).</summary>
    public List<string> Stages { get; } = [];

    /// <summary>COPY sources relative to the build context (COPY --from=... excluded).</summary>
    public List<string> CopySources { get; } = [];

    /// <summary>The final stage's environment, in order of definition (later wins).</summary>
    public Dictionary<string, string> ImageEnvironment { get; } = new(StringComparer.Ordinal);

    public List<int> Exposed { get; } = [];

    public string WorkingDirectory { get; private set; } = "/";

    public string? User { get; private set; }

    public IReadOnlyList<string> Entrypoint { get; private set; } = [];

    public IReadOnlyList<string> HealthCheck { get; private set; } = [];

    public Dictionary<string, string> HealthCheckOptions { get; } = new(StringComparer.Ordinal);

    /// <summary>The compose service's mapping.</summary>
    public YamlMappingNode Service { get; private set; } = null!;

    /// <summary>The compose service's environment.</summary>
    public Dictionary<string, string> ComposeEnvironment { get; } = new(StringComparer.Ordinal);

    /// <summary>What the app sees: the image's ENV, then compose's environment over it.</summary>
    public Dictionary<string, string> Environment
    {
        get
        {
            var merged = new Dictionary<string, string>(ImageEnvironment, StringComparer.Ordinal);
            foreach (var (key, value) in ComposeEnvironment)
            {
                merged[key] = value;
            }

            return merged;
        }
    }

    public static ContainerDefinition Load(string repositoryRoot)
    {
        var definition = new ContainerDefinition(repositoryRoot);
        definition.ReadDockerfile(File.ReadAllText(Path.Combine(repositoryRoot, "docker", "Dockerfile")));
        definition.ReadCompose(File.ReadAllText(Path.Combine(repositoryRoot, "docker", "compose.yaml")));
        return definition;
    }

    /// <summary>A scalar of the service (<c>network_mode</c>), or null.</summary>
    public string? Scalar(string key) =>
        Service.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlScalarNode scalar ? scalar.Value : null;

    /// <summary>A list of the service (<c>cap_add</c>), or empty.</summary>
    public IReadOnlyList<string> List(string key) =>
        Service.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlSequenceNode sequence
            ? [.. sequence.Children.OfType<YamlScalarNode>().Select(s => s.Value!)]
            : [];

    /// <summary>Instructions, with continuation lines joined and comments dropped.</summary>
    public static IEnumerable<(string Keyword, string Arguments)> Instructions(string dockerfile)
    {
        ArgumentNullException.ThrowIfNull(dockerfile);
        var current = "";
        foreach (var raw in dockerfile.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }

            current += line;
            if (current.Trim().Length > 0)
            {
                var trimmed = current.Trim();
                var space = trimmed.IndexOfAny([' ', '\t']);
                yield return space < 0
                    ? (trimmed.ToUpperInvariant(), "")
                    : (trimmed[..space].ToUpperInvariant(), trimmed[(space + 1)..].Trim());
            }

            current = "";
        }
    }

    /// <summary><c>ENV a=1 b= c=3</c> (and the old <c>ENV a 1</c>) as pairs.</summary>
    public static IEnumerable<KeyValuePair<string, string>> EnvPairs(string arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var words = arguments.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length >= 1 && !words[0].Contains('=', StringComparison.Ordinal))
        {
            yield return new(words[0], string.Join(' ', words.Skip(1)));
            yield break;
        }

        foreach (var word in words)
        {
            var equals = word.IndexOf('=', StringComparison.Ordinal);
            yield return new(word[..equals], word[(equals + 1)..].Trim('"'));
        }
    }

    private void ReadDockerfile(string text)
    {
        foreach (var (keyword, arguments) in Instructions(text))
        {
            switch (keyword)
            {
                case "FROM":
                    Stages.Add(arguments.Split(' ')[0]);
                    ImageEnvironment.Clear();
                    Exposed.Clear();
                    HealthCheck = [];
                    Entrypoint = [];
                    WorkingDirectory = "/";
                    User = null;
                    break;
                case "COPY" when !arguments.StartsWith("--from", StringComparison.Ordinal):
                    var parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    CopySources.AddRange(parts[..^1]);
                    break;
                case "ENV":
                    foreach (var (key, value) in EnvPairs(arguments))
                    {
                        ImageEnvironment[key] = value;
                    }

                    break;
                case "EXPOSE":
                    Exposed.AddRange(arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture)));
                    break;
                case "WORKDIR":
                    WorkingDirectory = arguments;
                    break;
                case "USER":
                    User = arguments;
                    break;
                case "ENTRYPOINT":
                    Entrypoint = ExecForm(arguments);
                    break;
                case "HEALTHCHECK":
                    var cmd = arguments.IndexOf(" CMD ", StringComparison.Ordinal);
                    foreach (var option in arguments[..cmd].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        var equals = option.IndexOf('=', StringComparison.Ordinal);
                        HealthCheckOptions[option[..equals]] = option[(equals + 1)..];
                    }

                    HealthCheck = ExecForm(arguments[(cmd + " CMD ".Length)..]);
                    break;
            }
        }
    }

    private static string[] ExecForm(string json) =>
        JsonSerializer.Deserialize<string[]>(json) ?? throw new FormatException("not an exec-form array: " + json);

    private void ReadCompose(string text)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(text));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var services = (YamlMappingNode)root.Children[new YamlScalarNode("services")];
        Service = (YamlMappingNode)services.Children[new YamlScalarNode(ServiceName)];
        if (Service.Children.TryGetValue(new YamlScalarNode("environment"), out var environment))
        {
            switch (environment)
            {
                case YamlMappingNode map:
                    foreach (var (key, value) in map.Children)
                    {
                        ComposeEnvironment[((YamlScalarNode)key).Value!] = ((YamlScalarNode)value).Value ?? "";
                    }

                    break;
                case YamlSequenceNode list:
                    foreach (var item in list.Children.OfType<YamlScalarNode>())
                    {
                        var equals = item.Value!.IndexOf('=', StringComparison.Ordinal);
                        ComposeEnvironment[item.Value[..equals]] = item.Value[(equals + 1)..];
                    }

                    break;
            }
        }
    }
}

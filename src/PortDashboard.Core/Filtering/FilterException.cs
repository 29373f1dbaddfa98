namespace PortDashboard.Core.Filtering;

/// <summary>A filter query that cannot be parsed. <see cref="Exception.Message"/> says what was wrong and what is accepted.</summary>
public sealed class FilterException : FormatException
{
    public FilterException(string parameter, string message)
        : base(message) => Parameter = parameter;

    public FilterException()
        : this("filter", "invalid filter")
    {
    }

    public FilterException(string message)
        : this("filter", message)
    {
    }

    public FilterException(string message, Exception innerException)
        : base(message, innerException) => Parameter = "filter";

    /// <summary>The query parameter at fault (<c>range</c>, <c>port</c>, ...).</summary>
    public string Parameter { get; }
}

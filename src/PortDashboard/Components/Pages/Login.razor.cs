using Microsoft.AspNetCore.Components;
using PortDashboard.Security;

namespace PortDashboard.Components.Pages;

/// <summary>
/// The sign-in page, shown when <c>PortDashboard:Auth</c> is configured and the visitor has no session. It posts to
/// <c>/login</c>; its parameters come from <see cref="SignInEndpoints"/>.
/// </summary>
public sealed partial class Login
{
    /// <summary>Where to go after signing in (a path on this site).</summary>
    [Parameter]
    public string ReturnUrl { get; set; } = "/";

    /// <summary>Why the last attempt failed, if it did.</summary>
    [Parameter]
    public string? Error { get; set; }

    /// <summary>Whether users with passwords are configured (the form then asks for a user name).</summary>
    [Parameter]
    public bool AsksForUserName { get; set; }

    /// <summary>Who is signed in, when the page is opened with a session: it then offers to sign out.</summary>
    [Parameter]
    public string? SignedInAs { get; set; }

    /// <summary>Whether the bearer token may be entered as the password.</summary>
    [Parameter]
    public bool AcceptsToken { get; set; }

    private static string LoginAction => SignInEndpoints.LoginPath;

    private static string LogoutAction => SignInEndpoints.LogoutPath;

    private string PasswordLabel => (AsksForUserName, AcceptsToken) switch
    {
        (true, true) => "Password (or the token)",
        (true, false) => "Password",
        _ => "Token",
    };
}

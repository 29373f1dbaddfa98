namespace PortDashboard.Security;

/// <summary>Problem details for refused requests: a status, a title and what to do about it.</summary>
internal static class SecurityProblems
{
    public const string HowToAuthenticate =
        "send 'Authorization: Bearer <PortDashboard:Auth:Token>' (on the hub also '?access_token='), or sign in at /login and send its cookie";

    public static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        var written = await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
        if (!written)
        {
            // A client that accepts no JSON still gets the reason, and the status code pages leave a response with a body alone.
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync($"{title}: {detail}\n");
        }
    }
}

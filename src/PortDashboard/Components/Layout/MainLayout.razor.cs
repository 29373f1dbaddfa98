using MudBlazor;
using PortDashboard.Model;

namespace PortDashboard.Components.Layout;

/// <summary>The shell: MudBlazor's providers, the app bar (navigation, header facts, theme toggle), the failure banner.</summary>
public partial class MainLayout
{
    // System fonts only: the dashboard must not fetch fonts from the internet.
    private static readonly string[] FontStack = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"];

    private readonly MudTheme _theme = CreateTheme();
    private readonly LiveState _live = new();
    private MudThemeProvider? _themeProvider;
    private bool _isDarkMode;

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender && _themeProvider is not null)
        {
            // Start in the theme the browser prefers; the toggle overrides it.
            var dark = await _themeProvider.GetSystemDarkModeAsync();
            if (dark != _isDarkMode)
            {
                _isDarkMode = dark;
                StateHasChanged();
            }
        }
    }

    private string ThemeToggleText => _isDarkMode ? "Light theme" : "Dark theme";

    private void ToggleTheme() => _isDarkMode = !_isDarkMode;

    private static MudTheme CreateTheme()
    {
        var theme = new MudTheme();
        var typography = theme.Typography;
        foreach (var style in new[]
                 {
                     typography.Default, typography.H1, typography.H2, typography.H3, typography.H4, typography.H5, typography.H6,
                     typography.Subtitle1, typography.Subtitle2, typography.Body1, typography.Body2, typography.Button,
                     typography.Caption, typography.Overline,
                 })
        {
            style.FontFamily = FontStack;
        }

        theme.LayoutProperties.AppbarHeight = "48px";
        return theme;
    }
}

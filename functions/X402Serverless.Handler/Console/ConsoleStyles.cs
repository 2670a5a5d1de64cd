namespace X402Serverless.Handler.ProviderConsole;

/// <summary>The console's stylesheet, served from the app itself so the content policy can forbid everything else.</summary>
internal static class ConsoleStyles
{
    public const string Path = "/console/console.css";

    public const string Css = """
        :root { color-scheme: light; --ink: #1d2433; --muted: #5b6475; --line: #dde2ea; --accent: #2456d6; --bad: #b3261e; --good: #1e7b34; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--ink); background: #f6f7fa; }
        header { display: flex; gap: 1.5rem; align-items: center; padding: .75rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
        header .brand { font-weight: 700; }
        header nav { display: flex; gap: 1rem; flex: 1; }
        header form { margin: 0; }
        main { max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
        a { color: var(--accent); }
        h1 { font-size: 1.5rem; margin: 0 0 1rem; }
        h2 { font-size: 1.15rem; margin: 2rem 0 .75rem; }
        table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: .5rem .75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        code, .mono { font-family: ui-monospace, monospace; font-size: .9em; word-break: break-all; }
        form.card, section.card { background: #fff; border: 1px solid var(--line); padding: 1.25rem; max-width: 640px; }
        label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
        label.inline { display: inline-flex; gap: .35rem; font-weight: 400; margin-right: 1rem; }
        input:not([type]), input[type=text], input[type=password], input[type=url], input[type=number], select, textarea { width: 100%; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 4px; font: inherit; }
        button { margin-top: 1rem; padding: .5rem 1rem; border: 0; border-radius: 4px; background: var(--accent); color: #fff; font: inherit; cursor: pointer; }
        header button { margin: 0; background: transparent; color: var(--accent); padding: 0; }
        .hint { color: var(--muted); font-size: .85rem; }
        .errors, .field-error, .error { color: var(--bad); }
        .errors { border: 1px solid var(--bad); background: #fff5f5; padding: .5rem 1rem; }
        .notice { border: 1px solid var(--good); color: var(--good); background: #f3fbf5; padding: .5rem 1rem; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1.25rem; }
        dt { color: var(--muted); }
        dd { margin: 0; }
        input.copy { min-width: 16rem; word-break: normal; background: #f6f7fa; }
        td.url { min-width: 16rem; }
        nav.periods { display: flex; gap: 1rem; align-items: baseline; margin: .5rem 0 1rem; }
        nav.periods a.current { font-weight: 700; color: var(--ink); text-decoration: none; }
        dl.totals { background: #fff; border: 1px solid var(--line); padding: 1rem 1.25rem; }
        figure.chart { margin: 1rem 0; background: #fff; border: 1px solid var(--line); padding: .5rem; }
        svg.chart-svg { width: 100%; height: auto; display: block; }
        .legend { display: flex; gap: 1.25rem; flex-wrap: wrap; font-size: .85rem; color: var(--muted); }
        details.fallback summary { cursor: pointer; color: var(--accent); margin: .5rem 0; }
        caption { text-align: left; color: var(--muted); font-size: .85rem; padding: .25rem 0; }
        tr.self-payment .self { color: var(--bad); }
        """;
}

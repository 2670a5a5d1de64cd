namespace X402Serverless.Handler.Listings;

/// <summary>The catalogue's stylesheet, served from the gateway so its content policy can forbid everything else.</summary>
internal static class CatalogueStyles
{
    public const string Path = "/apis/catalogue.css";

    public const string Css = """
        :root { color-scheme: light; --ink: #1d2433; --muted: #5b6475; --line: #dde2ea; --accent: #2456d6; --good: #1e7b34; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--ink); background: #f6f7fa; }
        header { display: flex; gap: 1.5rem; align-items: center; padding: .75rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
        header .brand { font-weight: 700; }
        header nav { display: flex; gap: 1rem; flex: 1; }
        main { max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
        a { color: var(--accent); }
        h1 { font-size: 1.5rem; margin: 0 0 1rem; }
        h2 { font-size: 1.15rem; margin: 0 0 .25rem; }
        h3 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
        form.search { display: flex; gap: .5rem; flex-wrap: wrap; margin-bottom: 1rem; }
        form.search input, form.search select { padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 4px; font: inherit; }
        form.search input { flex: 1; min-width: 14rem; }
        button { padding: .45rem 1rem; border: 0; border-radius: 4px; background: var(--accent); color: #fff; font: inherit; cursor: pointer; }
        ul.apis { list-style: none; padding: 0; margin: 0; display: grid; gap: .75rem; }
        li.api, section.card { background: #fff; border: 1px solid var(--line); padding: 1rem 1.25rem; }
        .provider, .hint { color: var(--muted); font-size: .9rem; margin: 0; }
        .description { margin: .5rem 0; }
        .price { font-weight: 700; color: var(--good); }
        .tags a { margin-right: .5rem; font-size: .85rem; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.25rem; margin: .5rem 0; }
        dt { color: var(--muted); }
        dd { margin: 0; }
        pre { background: #0f1523; color: #e6e9ef; padding: .75rem 1rem; overflow-x: auto; font-size: .85rem; }
        code { font-family: ui-monospace, monospace; }
        nav.pages { display: flex; gap: 1rem; margin-top: 1rem; }
        nav.toc ul { columns: 2; margin: 0 0 1rem; }
        section.ref { margin-bottom: 1rem; }
        .operation { border-top: 1px solid var(--line); margin-top: 1rem; }
        .method { display: inline-block; padding: 0 .5rem; border-radius: 3px; background: var(--accent); color: #fff; font-size: .85rem; }
        h4 { font-size: .9rem; margin: 1rem 0 .35rem; color: var(--muted); }
        table { border-collapse: collapse; width: 100%; font-size: .9rem; }
        th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
        .badge.down { display: inline-block; margin-left: .5rem; padding: 0 .45rem; border-radius: 3px; background: #b42318; color: #fff; font-size: .75rem; font-weight: 700; vertical-align: middle; }
        dd.health.down { color: #b42318; font-weight: 700; }
        """;
}

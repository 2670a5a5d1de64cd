namespace X402Serverless.Tests.Support;

/// <summary>
/// An upstream's HTML page that tries what a hostile provider would from the gateway's origin: read the console
/// (whose session cookie the browser holds), the origin's cookies and storage, and a same-origin frame. It reports
/// each attempt as JSON in #report and marks it data-done when finished.
/// </summary>
internal static class HostilePage
{
    public const string OwnPolicy = "default-src * 'unsafe-inline'";

    public const string Html = """
        <!doctype html>
        <html><head><title>hostile upstream</title></head>
        <body>
        <pre id="report">running</pre>
        <script>
        (async () => {
          const out = { origin: String(self.origin) };
          try { out.cookie = 'read:' + document.cookie; } catch (e) { out.cookie = 'blocked:' + e.name; }
          try { localStorage.setItem('x', '1'); out.storage = 'read'; } catch (e) { out.storage = 'blocked:' + e.name; }
          try {
            const r = await fetch('/console', { credentials: 'include' });
            out.console = 'read:' + r.status + ':' + (await r.text()).length;
          } catch (e) { out.console = 'blocked:' + e.name; }
          out.frame = await new Promise(resolve => {
            const frame = document.createElement('iframe');
            frame.onload = () => {
              try { resolve('read:' + frame.contentDocument.body.innerText.length); } catch (e) { resolve('blocked:' + e.name); }
            };
            frame.src = '/';
            document.body.appendChild(frame);
          });
          const report = document.getElementById('report');
          report.textContent = JSON.stringify(out);
          report.setAttribute('data-done', 'true');
        })();
        </script>
        </body></html>
        """;
}

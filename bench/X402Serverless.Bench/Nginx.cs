using System.Diagnostics;

namespace X402Serverless.Bench;

/// <summary>nginx as the reference reverse proxy to the same upstream, when it is installed.</summary>
internal sealed class Nginx : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private Nginx(Process process, string directory, string url)
    {
        _process = process;
        _directory = directory;
        Url = url;
    }

    public string Url { get; }

    public static Nginx? TryStart(string upstream, int port)
    {
        var binary = new[] { "/usr/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists);
        if (binary is null)
        {
            return null;
        }
        var directory = Path.Combine(Path.GetTempPath(), "x402-bench-nginx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var config = Path.Combine(directory, "nginx.conf");
        File.WriteAllText(config, $$"""
            worker_processes 1;
            daemon off;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log;
            events { worker_connections 1024; }
            http {
              access_log off;
              client_body_temp_path {{directory}};
              proxy_temp_path {{directory}};
              upstream api { server {{upstream}}; keepalive 64; }
              server {
                listen 127.0.0.1:{{port}};
                location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection ""; }
              }
            }
            """);
        var process = Process.Start(new ProcessStartInfo(binary, ["-c", config, "-p", directory]))!;
        Thread.Sleep(500);
        return process.HasExited ? null : new Nginx(process, directory, $"http://127.0.0.1:{port}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}

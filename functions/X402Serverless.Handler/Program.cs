using X402Serverless.Handler.Hosting;

var app = GatewayApp.Build(args);
await GatewayApp.StartAsync(app);
await app.WaitForShutdownAsync();

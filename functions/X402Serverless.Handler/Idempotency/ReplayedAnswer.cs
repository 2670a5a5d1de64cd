using X402Serverless.Core.Idempotency;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Idempotency;

/// <summary>
/// A recorded answer given again: its status, headers (the settlement response among them) and body. When the body
/// was too large to keep, a 410 problem says so, still carrying the settlement headers the payer reconciles from.
/// </summary>
internal sealed class ReplayedAnswer(RecordedAnswer answer) : IResult
{
    public const string Header = "X-Payment-Identifier-Replayed";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        RecordedHeaders.Apply(answer.Headers, response.Headers);
        response.Headers[Header] = "true";
        if (answer.Body is not { } body)
        {
            response.Headers.ContentType = default;
            response.Headers.ContentEncoding = default;
            response.Headers.ContentSecurityPolicy = default;
            await Problem.Of(StatusCodes.Status410Gone, PaymentIdentifiers.AnswerNotKept,
                "This call was paid and answered once; its answer was too large to keep and is not sent again.",
                $"The first answer had status {answer.Status} and more than {RecordedAnswer.MaxBodyBytes} bytes. The settlement is in the response headers; nothing was charged again.")
                .ExecuteAsync(httpContext);
            return;
        }
        response.StatusCode = answer.Status;
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, httpContext.RequestAborted);
    }
}

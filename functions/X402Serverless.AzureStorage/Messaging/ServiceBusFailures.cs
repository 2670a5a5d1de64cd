using System.Net.Sockets;
using Azure.Identity;
using Azure.Messaging.ServiceBus;

namespace X402Serverless.AzureStorage.Messaging;

/// <summary>
/// Whether a send that failed (after the client's own retries) may work later, or needs an operator: a missing or
/// disabled queue, a refused identity or an oversized message will fail the same way every time.
/// </summary>
public static class ServiceBusFailures
{
    public static bool IsTransient(Exception error) => error switch
    {
        ServiceBusException e => e.IsTransient || e.Reason is ServiceBusFailureReason.ServiceBusy or ServiceBusFailureReason.ServiceTimeout
            or ServiceBusFailureReason.ServiceCommunicationProblem or ServiceBusFailureReason.QuotaExceeded, // a full queue drains
        UnauthorizedAccessException or AuthenticationFailedException => false,
        TimeoutException or SocketException or IOException or OperationCanceledException => true,
        _ => false,
    };
}

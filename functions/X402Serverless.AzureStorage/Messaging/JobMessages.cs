using Azure.Messaging.ServiceBus;

namespace X402Serverless.AzureStorage.Messaging;

/// <summary>
/// A job as a Service Bus message. MessageId is the job id, so the queue's duplicate detection drops a re-send; the
/// body is the job's JSON as UTF-8 with ContentType application/json, which the Functions trigger hands to the
/// handler as the binding's data (it reads nothing else: the job row in the store is the truth).
/// </summary>
public static class JobMessages
{
    public const string JsonContentType = "application/json";

    public static ServiceBusMessage Create(string messageId, string jsonBody) => new(BinaryData.FromString(jsonBody))
    {
        MessageId = messageId,
        ContentType = JsonContentType,
    };
}

namespace X402Serverless.AzureStorage.Tables;

/// <summary>A Table service error, with the service's error code (EntityAlreadyExists, UpdateConditionNotSatisfied, ResourceNotFound...).</summary>
public sealed class TableException(int status, string? code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string? Code { get; } = code;

    public bool IsConflict => Status == 409;

    public bool IsPreconditionFailed => Status == 412;

    public bool IsNotFound => Status == 404;
}

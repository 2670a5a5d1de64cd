using System.Reflection;

namespace X402Serverless.Tests.Support;

/// <summary>
/// Wraps a store so one async method fails as a crashed process would: from its first call on, it throws before the
/// real call (nothing written) or after it (written, but the caller never hears so). Every other method passes through.
/// </summary>
public static class FaultProxy
{
    /// <param name="tripped">Completed when the fault first fires: the test's observable "the process has crashed".</param>
    public static T Wrap<T>(T inner, string method, bool throwBefore, TaskCompletionSource tripped) where T : class
    {
        var proxy = DispatchProxy.Create<T, FaultProxy<T>>();
        ((FaultProxy<T>)(object)proxy).Init(inner, method, throwBefore, tripped);
        return proxy;
    }
}

/// <summary>The proxy behind <see cref="FaultProxy.Wrap"/>.</summary>
public class FaultProxy<T> : DispatchProxy where T : class
{
    private T _inner = null!;
    private string _method = "";
    private bool _throwBefore;
    private TaskCompletionSource _tripped = null!;

    internal void Init(T inner, string method, bool throwBefore, TaskCompletionSource tripped) =>
        (_inner, _method, _throwBefore, _tripped) = (inner, method, throwBefore, tripped);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name != _method)
        {
            return Unwrap(() => targetMethod.Invoke(_inner, args));
        }
        if (_throwBefore)
        {
            _tripped.TrySetResult();
            return Faulted(targetMethod.ReturnType, Crash());
        }
        return targetMethod.ReturnType == typeof(Task)
            ? AfterAsync((Task)Unwrap(() => targetMethod.Invoke(_inner, args))!)
            : throw new NotSupportedException("Only a method returning Task can fail after its write.");
    }

    private async Task AfterAsync(Task write)
    {
        await write;
        _tripped.TrySetResult();
        throw Crash();
    }

    private static InvalidOperationException Crash() => new("Injected crash.");

    private static object Faulted(Type returnType, Exception e) => returnType == typeof(Task)
        ? Task.FromException(e)
        : typeof(Task).GetMethods().Single(m => m is { Name: nameof(Task.FromException), IsGenericMethod: true })
            .MakeGenericMethod(returnType.GetGenericArguments()[0]).Invoke(null, [e])!;

    private static object? Unwrap(Func<object?> call)
    {
        try
        {
            return call();
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}

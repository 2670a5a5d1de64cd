using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;

namespace X402Serverless.Core.Settlement;

/// <summary>The facilitators this deployment can settle through, by kind ("remote", "builtin").</summary>
public sealed class FacilitatorCatalog(IFacilitator remote, IFacilitator? builtIn, string defaultKind)
{
    public string DefaultKind { get; } = builtIn is null ? FacilitatorKinds.Remote : defaultKind;

    public bool Has(string kind) => kind == FacilitatorKinds.Remote || (kind == FacilitatorKinds.BuiltIn && builtIn is not null);

    public IFacilitator Get(string kind) => kind == FacilitatorKinds.BuiltIn && builtIn is not null ? builtIn : remote;
}

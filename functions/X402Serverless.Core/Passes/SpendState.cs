namespace X402Serverless.Core.Passes;

/// <summary>What became of a pass call taken for a request (<see cref="Ports.IPassStore.SpendStateAsync"/>).</summary>
public enum SpendState
{
    /// <summary>Taken, neither kept nor given back yet: its request is running, or stopped before concluding it.</summary>
    Taken,

    /// <summary>Given back: the call was not charged.</summary>
    GivenBack,

    /// <summary>Kept: the call was charged (or no record was ever made: a pass bounded by time alone).</summary>
    Kept,
}

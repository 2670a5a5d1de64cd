using System.Globalization;
using System.Text;
using X402Serverless.Core.Access;

namespace X402Serverless.Handler.Audit;

/// <summary>The audit log as CSV (RFC 4180) for spreadsheets, with formulas defused.</summary>
internal static class AuditCsv
{
    public const string Header = "at,id,actor_kind,actor_id,actor_label,actor_role,action,target_type,target_id,outcome,status,client_address,before,after\r\n";

    public static void Append(StringBuilder csv, AuditEntry e) =>
        csv.Append(CultureInfo.InvariantCulture,
            $"{Cell(e.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))},{Cell(e.Id)},{Cell(e.Actor.Kind)},{Cell(e.Actor.Id)},{Cell(e.Actor.Label)},{Cell(e.Actor.Role)},{Cell(e.Action)},{Cell(e.TargetType)},{Cell(e.TargetId)},{Cell(e.Outcome)},{e.Status},{Cell(e.ClientAddress)},{Cell(e.Before)},{Cell(e.After)}\r\n");

    /// <summary>A cell with formulas defused (<see cref="Management.CsvCells.Cell"/>).</summary>
    public static string Cell(string? value) => Management.CsvCells.Cell(value);
}

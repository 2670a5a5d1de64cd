using System.ComponentModel;
using System.Globalization;

namespace X402Serverless.Core.Money;

/// <summary>Lets configuration bind "X402:Credits:MinimumTopUp=5.00" straight to a <see cref="Usd"/>; a bad value stops the start.</summary>
public sealed class UsdTypeConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text ? Usd.Parse(text) : base.ConvertFrom(context, culture, value);

    public override object? ConvertTo(ITypeDescriptorContext? context, CultureInfo? culture, object? value, Type destinationType) =>
        destinationType == typeof(string) && value is Usd usd ? usd.ToString() : base.ConvertTo(context, culture, value, destinationType);
}

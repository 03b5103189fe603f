/// The integer operations `cl-score/1` names: every division says how it rounds.
///
/// Swift's `/` truncates toward zero; the method's `floor` and `floorDiv` round toward
/// minus infinity. They differ only when the quotient is negative.
public enum IntegerMath {
    /// `a / b` rounded toward minus infinity (methodology section 1). `b` must not be 0.
    @inlinable
    public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
    }

    /// `a / b` rounded toward minus infinity, in Int128. `b` must not be 0.
    @inlinable
    public static func floorDiv(_ a: Int128, _ b: Int128) -> Int128 {
        let q = a / b
        return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
    }

    /// `x` limited to `lo...hi`.
    @inlinable
    public static func clamp<T: Comparable>(_ x: T, _ lo: T, _ hi: T) -> T {
        min(max(x, lo), hi)
    }

    /// `x` as Int64, saturated at `Int64.min` / `Int64.max`.
    ///
    /// Used only for ratios whose exact value beyond Int64 cannot change any figure
    /// (the figures derived from them are clamped to 0...1000 first).
    @inlinable
    public static func saturating(_ x: Int128) -> Int64 {
        if x > Int128(Int64.max) { return .max }
        if x < Int128(Int64.min) { return .min }
        return Int64(x)
    }
}

extension IntegerMath {
    /// `floor(product(numerator) / product(denominator))` in Int128, nil when a product
    /// overflows Int128 (inputs far beyond any real consumer). The denominator's
    /// product must not be 0.
    static func floorRatio(_ numerator: [Int128], _ denominator: [Int128]) -> Int128? {
        guard let n = product(numerator), let d = product(denominator) else { return nil }
        return floorDiv(n, d)
    }

    /// The product, nil on overflow.
    static func product(_ factors: [Int128]) -> Int128? {
        var p: Int128 = 1
        for f in factors {
            let (r, overflow) = p.multipliedReportingOverflow(by: f)
            if overflow { return nil }
            p = r
        }
        return p
    }
}

/// What a piece of text says as an integer, under the JSON number grammar: one reading
/// of numbers for JSON tokens and CSV cells alike, so both formats give the same
/// answers and the same messages.
enum IntegerText: Equatable {
    case value(Int64)
    /// A valid JSON number with a fraction (`12.5`, `1.0`).
    case fraction
    /// A valid JSON number with an exponent (`1e3`).
    case exponent
    /// Digits with a leading zero (`012`).
    case leadingZero
    /// A `+` sign (`+5`).
    case plusSign
    /// A well-formed integer outside Int64.
    case outOfRange
    /// Not a number at all.
    case notANumber

    static func parse(_ text: UnsafeRawBufferPointer) -> IntegerText {
        let count = text.count
        // Fast path, one pass: 1 to 18 plain digits (no overflow possible), no leading zero.
        if count > 0 && count <= 18 && (text[0] != UInt8(ascii: "0") || count == 1) {
            var magnitude: Int64 = 0
            var i = 0
            while i < count {
                let digit = text[i] &- 0x30
                if digit >= 10 { break }
                magnitude = magnitude &* 10 &+ Int64(digit)
                i &+= 1
            }
            if i == count { return .value(magnitude) }
        }
        return parseSlowly(text)
    }

    /// Every other case: signs, long numbers, fractions, exponents, garbage.
    private static func parseSlowly(_ text: UnsafeRawBufferPointer) -> IntegerText {
        let count = text.count
        var i = 0
        guard count > 0 else { return .notANumber }
        if text[0] == UInt8(ascii: "+") { return count > 1 && isDigit(text[1]) ? .plusSign : .notANumber }
        let negative = text[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        let digitsStart = i
        while i < count, isDigit(text[i]) { i += 1 }
        let digitCount = i - digitsStart
        guard digitCount > 0 else { return .notANumber }
        let leadingZero = digitCount > 1 && text[digitsStart] == UInt8(ascii: "0")
        if i == count {
            if leadingZero { return .leadingZero }
            // 20 digits are past Int64 always; up to 19 fit in UInt64 without overflow.
            guard digitCount <= 19 else { return .outOfRange }
            var magnitude: UInt64 = 0
            for k in digitsStart..<count { magnitude = magnitude &* 10 &+ UInt64(text[k] &- 0x30) }
            // Int64.min has magnitude 2^63.
            let limit: UInt64 = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
            guard magnitude <= limit else { return .outOfRange }
            return .value(negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude))
        }
        // A fraction and/or exponent: tell a well-formed JSON number from garbage.
        var kind = IntegerText.notANumber
        if text[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < count, isDigit(text[i]) { i += 1 }
            guard i > fractionStart else { return .notANumber }
            kind = .fraction
        }
        if i < count, text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E") {
            i += 1
            if i < count, text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-") { i += 1 }
            let exponentStart = i
            while i < count, isDigit(text[i]) { i += 1 }
            guard i > exponentStart else { return .notANumber }
            if kind == .notANumber { kind = .exponent }
        }
        guard i == count else { return .notANumber }
        return leadingZero ? .leadingZero : kind
    }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
}

/// An integer as XML writes it: optional spaces around, an optional `-`, digits.
enum XMLInteger: Equatable {
    case value(Int64)
    case notAnInteger
    /// Digits that do not fit in Int64.
    case outOfRange

    static func parse(_ text: UnsafeRawBufferPointer) -> XMLInteger {
        var start = 0
        var end = text.count
        while start < end && XMLScanner.isSpace(text[start]) { start += 1 }
        while end > start && XMLScanner.isSpace(text[end - 1]) { end -= 1 }
        let negative = start < end && text[start] == UInt8(ascii: "-")
        if negative { start += 1 }
        guard start < end else { return .notAnInteger }
        var value: Int64 = 0
        var overflow = false
        for i in start..<end {
            let digit = text[i] &- 0x30
            guard digit < 10 else { return .notAnInteger }
            if overflow { continue }
            // Accumulated negative, so Int64.min fits.
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = shifted.subtractingReportingOverflow(Int64(digit))
            overflow = o1 || o2
            value = next
        }
        if overflow { return .outOfRange }
        if negative { return .value(value) }
        let (positive, o) = Int64(0).subtractingReportingOverflow(value)
        return o ? .outOfRange : .value(positive)
    }
}

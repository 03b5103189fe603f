/// An IANA time zone from its compiled TZif bytes (RFC 8536, versions 1 to 4), e.g. the
/// contents of `/usr/share/zoneinfo/Asia/Shanghai`: the shell reads the file, this type
/// only interprets bytes, so it stays pure and needs no Foundation.
///
/// Offsets come from the transition table; before the first transition from time type 0,
/// after the last one from the footer's POSIX TZ rule (version 2+), so future years
/// follow the zone's current rules instead of a hard-coded offset.
public struct TZifCalendar: ProgramCalendar {
    /// The zone's IANA name.
    public let identifier: String
    /// Transition instants, ascending.
    let transitions: [Int64]
    /// The offset in force from `transitions[i]` on.
    let offsets: [Int64]
    /// The offset before the first transition (time type 0).
    let initialOffset: Int64
    /// The footer's rule, for instants at or after the last transition (or all instants
    /// when there is no transition).
    let rule: POSIXTimeZoneRule?

    /// Parses TZif bytes; `identifier` is the zone's name (`Asia/Shanghai`).
    public init(identifier: String, tzif bytes: [UInt8]) throws(TZifError) {
        self.identifier = identifier
        var reader = TZifReader(bytes: bytes)
        let v1 = try reader.header()
        let parsed: TZifReader.Block
        var footer: String? = nil
        if v1.version == 0 {
            parsed = try reader.block(v1, timeSize: 4)
        } else {
            try reader.skip(v1.v1BlockSize)
            let v2 = try reader.header()
            parsed = try reader.block(v2, timeSize: 8)
            footer = try reader.footer()
        }
        guard parsed.leapCount == 0 else {
            throw TZifError(
                "leap-second TZif files (right/...) count seconds differently from Unix time; use the zone without leap seconds"
            )
        }
        for offset in parsed.typeOffsets where abs(offset) >= maximumOffsetSeconds {
            throw TZifError("a UTC offset of \(offset) seconds is out of range")
        }
        transitions = parsed.times
        offsets = parsed.typeIndices.map { parsed.typeOffsets[Int($0)] }
        initialOffset = parsed.typeOffsets[0]
        if let footer, !footer.isEmpty {
            rule = try POSIXTimeZoneRule(parsing: footer)
        } else {
            rule = nil
        }
    }

    public func utcOffset(at instant: Int64) -> Int64 {
        if let last = transitions.last, instant < last || rule == nil {
            let i = lastTransitionIndex(atOrBefore: instant)
            return i < 0 ? initialOffset : offsets[i]
        }
        if let rule { return rule.utcOffset(at: instant) }
        return initialOffset
    }

    public func nextOffsetChange(after instant: Int64) -> Int64? {
        if let last = transitions.last, instant < last {
            return transitions[lastTransitionIndex(atOrBefore: instant) + 1]
        }
        return rule?.nextChange(after: instant)
    }

    /// The index of the last transition at or before `instant`, or -1.
    private func lastTransitionIndex(atOrBefore instant: Int64) -> Int {
        var lo = 0
        var hi = transitions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if transitions[mid] <= instant { lo = mid + 1 } else { hi = mid }
        }
        return lo - 1
    }
}

/// Why TZif bytes or a POSIX TZ rule could not be read.
public struct TZifError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words.
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { "time zone: \(message)" }
}

/// A cursor over TZif bytes.
private struct TZifReader {
    let bytes: [UInt8]
    var position = 0

    struct Header {
        var version: UInt8
        var isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt: Int
        /// Size of the version-1 data block that follows this header.
        var v1BlockSize: Int {
            timecnt * 5 + typecnt * 6 + charcnt + leapcnt * 8 + isstdcnt + isutcnt
        }
    }

    struct Block {
        var times: [Int64]
        var typeIndices: [UInt8]
        var typeOffsets: [Int64]
        var leapCount: Int
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func skip(_ count: Int) throws(TZifError) {
        guard position + count <= bytes.count else { throw TZifError("TZif data ends early") }
        position += count
    }

    mutating func int(size: Int) throws(TZifError) -> Int64 {
        guard position + size <= bytes.count else { throw TZifError("TZif data ends early") }
        var value: UInt64 = 0
        for k in 0..<size { value = value << 8 | UInt64(bytes[position + k]) }
        position += size
        // Sign-extend from `size` bytes.
        let shift = UInt64(64 - 8 * size)
        return Int64(bitPattern: value << shift) >> Int64(shift)
    }

    mutating func header() throws(TZifError) -> Header {
        guard position + 44 <= bytes.count, Array(bytes[position..<(position + 4)]) == Array("TZif".utf8) else {
            throw TZifError("not TZif data (no \"TZif\" magic)")
        }
        let versionByte = bytes[position + 4]
        let version: UInt8
        switch versionByte {
        case 0: version = 0
        case UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "4"): version = versionByte - UInt8(ascii: "0")
        default: throw TZifError("unknown TZif version byte \(versionByte)")
        }
        position += 20
        var counts: [Int] = []
        for _ in 0..<6 {
            let c = try int(size: 4)
            guard c >= 0, c < 1 << 20 else { throw TZifError("implausible TZif count \(c)") }
            counts.append(Int(c))
        }
        let h = Header(
            version: version, isutcnt: counts[0], isstdcnt: counts[1], leapcnt: counts[2], timecnt: counts[3],
            typecnt: counts[4], charcnt: counts[5])
        guard h.typecnt >= 1 else { throw TZifError("TZif data has no local time type") }
        return h
    }

    mutating func block(_ h: Header, timeSize: Int) throws(TZifError) -> Block {
        var times: [Int64] = []
        for _ in 0..<h.timecnt {
            let t = try int(size: timeSize)
            if let last = times.last, t <= last { throw TZifError("TZif transitions are not ascending") }
            times.append(t)
        }
        var indices: [UInt8] = []
        for _ in 0..<h.timecnt {
            let i = try int(size: 1)
            guard i < h.typecnt else { throw TZifError("TZif transition names type \(i) of \(h.typecnt)") }
            indices.append(UInt8(i))
        }
        var offsets: [Int64] = []
        for _ in 0..<h.typecnt {
            offsets.append(try int(size: 4))
            try skip(2)  // isdst, abbreviation index
        }
        try skip(h.charcnt + h.leapcnt * (timeSize + 4) + h.isstdcnt + h.isutcnt)
        return Block(times: times, typeIndices: indices, typeOffsets: offsets, leapCount: h.leapcnt)
    }

    /// The footer's TZ string (between two newlines).
    mutating func footer() throws(TZifError) -> String {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\n") else {
            throw TZifError("TZif footer is missing")
        }
        guard let end = bytes[(position + 1)...].firstIndex(of: UInt8(ascii: "\n")) else {
            throw TZifError("TZif footer is not terminated")
        }
        let text = String(decoding: bytes[(position + 1)..<end], as: UTF8.self)
        position = end + 1
        return text
    }
}

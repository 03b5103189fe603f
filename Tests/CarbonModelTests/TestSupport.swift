import CarbonModel

/// A small seeded generator (SplitMix64) so random tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Characters that make encoders and parsers work: quotes, backslashes, slashes,
/// control characters, DEL, C1 controls, non-ASCII of every UTF-8 length, line and
/// paragraph separators.
let nastyScalars: [Unicode.Scalar] =
    ["\"", "\\", "/", " ", "a", "Z", "0", ",", "{", "}", "[", "]", ":", "\u{7F}", "\u{80}", "\u{85}", "\u{9F}",
     "\u{A0}", "é", "中", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFF}", "😀", "\u{10FFFF}"]
    + (0..<0x20).map { Unicode.Scalar(UInt8($0)) }

/// A random string of up to `maxScalars` nasty scalars.
func nastyString(_ rng: inout SeededGenerator, maxScalars: Int = 12) -> String {
    var s = String.UnicodeScalarView()
    for _ in 0..<Int.random(in: 0...maxScalars, using: &rng) {
        s.append(nastyScalars.randomElement(using: &rng)!)
    }
    return String(s)
}

/// A random string that passes the name rules (no controls, no `/`, no edge spaces).
func validName(_ rng: inout SeededGenerator) -> String {
    let allowed: [Unicode.Scalar] = ["a", "b", "Z", "0", "9", "-", "_", ".", "\"", "\\", ",", "é", "中", "😀", "\u{A0}", "'", "{"]
    var s = String.UnicodeScalarView()
    for _ in 0..<Int.random(in: 1...12, using: &rng) { s.append(allowed.randomElement(using: &rng)!) }
    return String(s)
}

/// A random reading that passes every rule.
func validReading(_ rng: inout SeededGenerator) -> Reading {
    Reading(
        utility: validName(&rng), meter: validName(&rng), consumer: validName(&rng),
        start: Int64.random(in: ReadingParser.startRange, using: &rng),
        durationS: Int64.random(in: ReadingParser.durationRange, using: &rng),
        importWh: Int64.random(in: ReadingParser.energyRange, using: &rng),
        exportWh: Bool.random(using: &rng) ? 0 : Int64.random(in: ReadingParser.energyRange, using: &rng),
        quality: Bool.random(using: &rng) ? .actual : .estimated,
        id: Bool.random(using: &rng) ? nil : validName(&rng) + "/" + validName(&rng))
}

/// A valid reading as one JSON object (field order as the interface lists them).
func readingJSON(
    utility: String = "zj-grid", meter: String = "m-1", consumer: String = "c-1", start: String = "1790784000",
    duration: String = "3600", importWh: String = "1250", extra: String = ""
) -> String {
    """
    {"utility":"\(utility)","meter":"\(meter)","consumer":"\(consumer)","start":\(start),\
    "duration_s":\(duration),"import_wh":\(importWh)\(extra)}
    """
}

/// The standard good reading of `readingJSON()`.
let goodReading = Reading(
    utility: "zj-grid", meter: "m-1", consumer: "c-1", start: 1_790_784_000, durationS: 3600, importWh: 1250)

/// A CSV cell, quoted when it must be.
func csvCell(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingAll("\"", with: "\"\"") + "\""
}

extension String {
    /// Every occurrence of `target` replaced (without Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}

/// Parses readings from text.
func readings(_ text: String, _ format: BodyFormat, max: Int = 1000) throws(BodyError) -> ParsedBatch<Reading> {
    try ReadingParser.parse(Array(text.utf8), format: format, maxRecords: max)
}

/// Parses consumers from text.
func consumers(_ text: String, _ format: BodyFormat, max: Int = 1000) throws(BodyError) -> ParsedBatch<Consumer> {
    try ConsumerParser.parse(Array(text.utf8), format: format, maxRecords: max)
}

/// The `BodyError` thrown by `body`, if any.
func bodyError<T>(_ body: () throws -> T) -> BodyError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? BodyError
    }
}

/// The checks every returned batch must pass, whatever the input.
func checkInvariants<R>(_ batch: ParsedBatch<R>) -> Bool {
    guard batch.records.count == batch.recordIndex.count else { return false }
    guard batch.recordIndex == batch.recordIndex.sorted(), Set(batch.recordIndex).count == batch.recordIndex.count else {
        return false
    }
    let bad = Set(batch.errors.map(\.index))
    guard bad.allSatisfy({ (0..<batch.count).contains($0) }) else { return false }
    guard batch.recordIndex.allSatisfy({ (0..<batch.count).contains($0) && !bad.contains($0) }) else { return false }
    return batch.records.count + bad.count == batch.count
}

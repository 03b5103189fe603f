import Testing

@testable import CarbonModel

/// Random manglings of valid bodies must never crash a parser: each returns a batch that
/// keeps its invariants, or throws a `BodyError`.
@Suite("Malformed input")
struct FuzzTests {
    static let seeds: [(BodyFormat, String)] = {
        var rng = SeededGenerator(seed: 5)
        let sample = (0..<6).map { _ in validReading(&rng) }
        let header = "utility,meter,consumer,start,duration_s,import_wh,export_wh,quality,id"
        return [
            (.json, "[" + sample.map(\.json.canonicalString).joined(separator: ",\n") + "]"),
            (.ndjson, sample.map(\.json.canonicalString).joined(separator: "\n") + "\n"),
            (.csv, header + "\r\n" + sample.map { r in
                [r.utility, r.meter, r.consumer, String(r.start), String(r.durationS), String(r.importWh),
                 String(r.exportWh), r.quality.rawValue, r.id ?? ""].map(csvCell).joined(separator: ",")
            }.joined(separator: "\r\n")),
            (.json, #"[{"a":[1,{"b":"\ud83d\ude00"}],"utility":"\u0041","start":"2026-10-01T00:00:00+08:00"}]"#),
        ]
    }()

    /// One random change: flip, insert, delete, duplicate, truncate or splice bytes.
    static func mutate(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var out = bytes
        let interesting: [UInt8] = Array("{}[]\",:\\\n\r 0-.eE+ntfu/".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xE4, 0xED, 0xF0, 0xFF]
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let at = out.isEmpty ? 0 : Int.random(in: 0..<out.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !out.isEmpty: out[at] = interesting.randomElement(using: &rng)!
            case 1: out.insert(interesting.randomElement(using: &rng)!, at: at)
            case 2 where !out.isEmpty: out.removeSubrange(at..<min(out.count, at + Int.random(in: 1...8, using: &rng)))
            case 3 where !out.isEmpty:
                let end = min(out.count, at + Int.random(in: 1...40, using: &rng))
                out.insert(contentsOf: out[at..<end], at: Int.random(in: 0...out.count, using: &rng))
            case 4: out = Array(out.prefix(at))
            default: out[at...].reverse()
            }
        }
        return out
    }

    @Test("mutated reading and consumer bodies return or throw, never crash")
    func mutatedBodies() {
        var rng = SeededGenerator(seed: 2024)
        var returned = 0
        var thrown = 0
        for (format, text) in FuzzTests.seeds {
            let original = Array(text.utf8)
            for _ in 0..<1500 {
                let body = FuzzTests.mutate(original, &rng)
                for format in [format, BodyFormat.allCases.randomElement(using: &rng)!] {
                    do {
                        let batch = try ReadingParser.parse(body, format: format, maxRecords: 50)
                        #expect(checkInvariants(batch), "\(String(decoding: body, as: UTF8.self).debugDescription)")
                        returned += 1
                    } catch {
                        thrown += 1
                    }
                    if let batch = try? ConsumerParser.parse(body, format: format, maxRecords: 50) {
                        #expect(checkInvariants(batch))
                    }
                }
            }
        }
        #expect(returned > 0 && thrown > 0)
    }

    @Test("mutated JSON: parse returns or throws; what parses re-encodes to something that parses the same")
    func mutatedJSON() {
        var rng = SeededGenerator(seed: 77)
        for _ in 0..<4000 {
            let value = randomValue(&rng, depth: 0)
            let bytes = FuzzTests.mutate(value.canonicalBytes(), &rng)
            if let parsed = try? JSONValue.parse(bytes) {
                #expect((try? JSONValue.parse(parsed.canonicalBytes())) == parsed)
            }
            _ = JSONValue.isCanonical(bytes)
        }
    }

    @Test("random bytes and random Timestamp text never crash")
    func randomBytes() {
        var rng = SeededGenerator(seed: 3)
        for _ in 0..<3000 {
            let bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            for format in BodyFormat.allCases {
                _ = try? ReadingParser.parse(bytes, format: format, maxRecords: 10)
            }
            _ = try? JSONValue.parse(bytes)
            let text = String(decoding: bytes.map { 0x20 + $0 % 0x5F }, as: UTF8.self)
            _ = Timestamp.parse(text)
            _ = Timestamp.parse("2026-10-01T" + text)
        }
    }
}

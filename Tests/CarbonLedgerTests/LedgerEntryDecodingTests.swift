import CarbonAccounting
import CarbonLedger
import CarbonModel
import Testing
import TransparencyLog

/// `LedgerEntry.decode(canonicalBytes:)` is the inverse of `canonicalBytes(time:)`:
/// every kind, every list form, and nothing else.
@Suite struct LedgerEntryDecodingTests {
    static let root = Hash256(bytes: [UInt8](repeating: 7, count: 32))!
    static let march = Period("2023-03")!

    static func figures(points: Int64 = 12) -> ScoreFigures {
        ScoreFigures(
            energyWh: 1_000, exportWh: 0, locUg: 581_000, mktUg: 581_000, matchedWh: 0, estimatedWh: 0, kMilli: 900,
            p: 50, qMilli: nil, r: 0, zoneFlatMg: 581, sMilli: 1_000, t: 40, g: 0, score: 55, benchUg: nil,
            avoidedUg: 0, points: points, flags: [.noBaseline])
    }

    static func parameters() -> ProgramParameters {
        ProgramParameters(staticBenchmarks: [StaticBenchmark(zone: "CN-ZJ", consumerClass: .residential, ugPerDay: 5_000)])
    }

    /// One entry of every kind, with the list fields both short and over their budget.
    static func everyKind() throws -> [LedgerEntry] {
        let groups = (0..<2).map {
            PeerBenchmark(zone: "CN-Z\($0)", consumerClass: .residential, n: 5, sumLocUg: Int128(Int64.max) * 3, sumNorm: 10)
        }
        let manyGroups = (0..<600).map {
            PeerBenchmark(zone: "CN-ZONE-\($0)", consumerClass: .commercial, n: $0, sumLocUg: Int128($0), sumNorm: 1)
        }
        let manyCertificates = (0..<1_000).map { "gec-certificate-\($0)" }
        let manyRoots = (0..<400).map { _ in Self.root }
        let (_, vkey) = try NoteSigner.generate(name: "ledger.example")
        return [
            .readings(ReadingsEntry(utility: "u1", count: 3, root: root, firstStart: 100, lastEnd: 7_300, batch: nil)),
            .readings(ReadingsEntry(utility: "u1", count: 1, root: root, firstStart: -5, lastEnd: 0, batch: "b-1")),
            .consumer(Consumer(id: "c1", utility: "u1", zone: "CN-ZJ", consumerClass: .industrial, normalizer: 120)),
            .zones(ZonesEntry(count: 2, root: root)),
            .factors(FactorsEntry(dataset: "cn-mee-2023", count: 40, root: root)),
            .certificate(Certificate(
                id: "gec-1", consumer: "c1", start: 0, end: 3_600, wh: 500, technology: "solar", issuer: "CN-GEC")),
            .period(PeriodEntry(
                period: march, method: "cl-score/1", timezone: "Asia/Shanghai", parameters: parameters(),
                benchmarks: groups, consumers: 6)),
            .period(PeriodEntry(
                period: march, method: "cl-score/1", timezone: "UTC", parameters: ProgramParameters(),
                benchmarks: manyGroups, consumers: 6_000)),
            .score(ScoreEntry(
                consumer: "c1", period: march, method: "cl-score/1", figures: figures(), readingsRoot: root,
                certificates: ["gec-1"], factorRoots: [root])),
            .score(ScoreEntry(
                consumer: "c1", period: march, method: "cl-score/1", figures: figures(), readingsRoot: root,
                certificates: manyCertificates, factorRoots: manyRoots)),
            .key(try NoteVerifier(vkey)),
        ]
    }

    @Test func everyKindDecodesToItselfAndItsTime() throws {
        for entry in try Self.everyKind() {
            for time in [Int64.min, -1, 0, 1_790_000_000, Int64.max] {
                let bytes = entry.canonicalBytes(time: time)
                let decoded = try LedgerEntry.decode(canonicalBytes: bytes)
                #expect(decoded.entry == entry, "\(entry.kind)")
                #expect(decoded.time == time)
                #expect(try LedgerEntry(canonicalBytes: bytes) == entry)
            }
        }
    }

    @Test func longListsAreRecordedByTheirRootAndStillDecode() throws {
        let kinds = try Self.everyKind()
        guard case .period(let large) = kinds[7], case .score(let many) = kinds[9] else {
            Issue.record("the fixture changed")
            return
        }
        guard case .root(_, let groups) = large.benchmarks, case .root(_, let certificates) = many.certificates,
            case .root(_, let roots) = many.factorRoots
        else {
            Issue.record("long lists should be recorded by their root")
            return
        }
        #expect(groups == 600 && certificates == 1_000 && roots == 400)
        for entry in [kinds[7], kinds[9]] { #expect(entry.canonicalBytes(time: 0).count <= 65_535) }
    }

    @Test func bytesThatAreNotExactlyAnEntryAreRefusedNamingTheField() throws {
        let consumer = LedgerEntry.consumer(Consumer(id: "c1", utility: "u1", zone: "CN-ZJ", consumerClass: .residential, normalizer: 1))
        let text = String(decoding: consumer.canonicalBytes(time: 5), as: UTF8.self)
        let cases: [(String, String?)] = [
            (text.replacingOccurrences(of: "\"normalizer\":1", with: "\"normalizer\":\"1\""), "normalizer"),
            (text.replacingOccurrences(of: "\"class\":\"residential\"", with: "\"class\":\"villa\""), "class"),
            (text.replacingOccurrences(of: "\"v\":1", with: "\"v\":2"), "v"),
            (text.replacingOccurrences(of: "\"kind\":\"consumer\"", with: "\"kind\":\"gift\""), "kind"),
            (text.replacingOccurrences(of: "\"time\":5,", with: ""), "time"),
            (text.replacingOccurrences(of: "\"normalizer\":1", with: "\"normalizer\":99999999999999999999"), "normalizer"),
            // Extra fields and another key order are not this entry's canonical bytes.
            (text.replacingOccurrences(of: "\"v\":1", with: "\"v\":1,\"w\":0"), nil),
            (text.replacingOccurrences(of: "{\"class\"", with: "{ \"class\""), nil),
            ("", nil), ("[]", nil), ("{\"kind\":\"key\",\"time\":1,\"v\":1,\"vkey\":\"not a key\"}", "vkey"),
        ]
        for (bytes, field) in cases {
            #expect(throws: LedgerEntryError.self, "\(bytes)") { try LedgerEntry(canonicalBytes: Array(bytes.utf8)) }
            do {
                _ = try LedgerEntry(canonicalBytes: Array(bytes.utf8))
            } catch {
                #expect(error.field == field, "\(bytes): \(error)")
            }
        }
    }

    @Test func aRecordedListWithANegativeCountIsRefused() throws {
        let score = try Self.everyKind()[9]
        let text = String(decoding: score.canonicalBytes(time: 0), as: UTF8.self)
        let forged = text.replacingOccurrences(of: "\"certificates_count\":1000", with: "\"certificates_count\":-1")
        #expect(forged != text)
        #expect(throws: LedgerEntryError(field: "inputs.certificates_count", message: "must not be negative")) {
            try LedgerEntry(canonicalBytes: Array(forged.utf8))
        }
    }
}

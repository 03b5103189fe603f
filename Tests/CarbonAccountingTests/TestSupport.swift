import CarbonModel
import Foundation
import Testing

@testable import CarbonAccounting

/// The bundled zone tree's East China branch, and one other province.
let testZones = try! ZoneTree([
    Zone(zone: "CN", parent: nil, name: "China national grid"),
    Zone(zone: "CN-EAST", parent: "CN", name: "East China grid"),
    Zone(zone: "CN-ZJ", parent: "CN-EAST", name: "Zhejiang"),
    Zone(zone: "CN-JS", parent: "CN-EAST", name: "Jiangsu"),
    Zone(zone: "CN-SOUTH", parent: "CN", name: "China Southern grid"),
    Zone(zone: "CN-GD", parent: "CN-SOUTH", name: "Guangdong"),
])

/// Where the system keeps compiled IANA zones.
let zoneinfo = "/usr/share/zoneinfo/"

/// TZif bytes of an IANA zone from the system's zoneinfo, nil if absent.
func tzif(_ name: String) -> [UInt8]? {
    FileManager.default.contents(atPath: zoneinfo + name).map { [UInt8]($0) }
}

/// Asia/Shanghai: from the system's TZif file when there is one, else from Foundation.
let shanghai: any ProgramCalendar = {
    if let bytes = tzif("Asia/Shanghai"), let calendar = try? TZifCalendar(identifier: "Asia/Shanghai", tzif: bytes) {
        return calendar
    }
    return FoundationCalendar(TimeZone(identifier: "Asia/Shanghai")!)
}()

/// A conformance through Foundation's TimeZone, as a shell could write it; the tests
/// check the TZif reader against it.
struct FoundationCalendar: ProgramCalendar {
    let zone: TimeZone
    init(_ zone: TimeZone) { self.zone = zone }
    var identifier: String { zone.identifier }
    func utcOffset(at instant: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))))
    }
    func nextOffsetChange(after instant: Int64) -> Int64? {
        zone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: Double(instant)))
            .map { Int64($0.timeIntervalSince1970) }
    }
}

/// Unix seconds of RFC 3339 text (test literals only).
func at(_ text: String) -> Int64 {
    guard let t = Timestamp.parse(text) else { fatalError("bad test time \(text)") }
    return t
}

/// A reading with test defaults.
func reading(
    _ consumer: String = "c1", meter: String = "m1", start: Int64, duration: Int64 = 3600, importWh: Int64,
    exportWh: Int64 = 0, quality: Quality = .actual
) -> Reading {
    Reading(
        utility: "zj-grid", meter: meter, consumer: consumer, start: start, durationS: duration, importWh: importWh,
        exportWh: exportWh, quality: quality)
}

/// An annual factor row in Shanghai time.
func annual(
    _ zone: String, _ kind: FactorKind, _ year: Int64, _ mg: Int64, dataset: String = "cn-mee-annual",
    calendar: any ProgramCalendar = shanghai
) -> FactorRow {
    FactorRow.annual(
        zone: zone, kind: kind, year: year, mgPerKWh: mg, source: "test", dataset: dataset, calendar: calendar)
}

/// An hourly (or any sub-annual) factor row.
func span(_ zone: String, _ kind: FactorKind, _ start: Int64, _ end: Int64, _ mg: Int64, dataset: String = "hourly")
    -> FactorRow
{
    FactorRow(zone: zone, kind: kind, start: start, end: end, mgPerKWh: mg, source: "test", dataset: dataset)
}

/// A residential consumer of CN-ZJ unless told otherwise.
func consumer(
    _ id: String, zone: String = "CN-ZJ", _ consumerClass: ConsumerClass = .residential, normalizer: Int64 = 1
)
    -> Consumer
{
    Consumer(id: id, utility: "zj-grid", zone: zone, consumerClass: consumerClass, normalizer: normalizer)
}

/// A small, fast, seedable generator (SplitMix64), so random cases replay exactly.
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

/// The figures of one consumer in a result.
func figures(_ result: PeriodResult, _ id: String) -> ScoreFigures? {
    result.scores.first { $0.consumer.id == id }?.figures
}

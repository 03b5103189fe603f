import Foundation

/// The system's compiled time-zone files (tzdata, `/usr/share/zoneinfo`): the one
/// place the daemon, the auditor's score replay and the benchmarks read a program
/// time zone from.
public enum SystemTimeZones {
    public static let folder = "/usr/share/zoneinfo"

    /// The calendar of the IANA zone `identifier`, from its TZif file.
    public static func calendar(_ identifier: String) throws -> TZifCalendar {
        let path = folder + "/" + identifier
        guard !identifier.hasPrefix("/"), !identifier.split(separator: "/").contains(".."),
            let bytes = FileManager.default.contents(atPath: path)
        else { throw SystemTimeZoneError("cannot read \(path) (is tzdata installed?)") }
        do {
            return try TZifCalendar(identifier: identifier, tzif: Array(bytes))
        } catch {
            throw SystemTimeZoneError("\(path): \(error)")
        }
    }
}

/// A program time zone the system's zone files do not give.
public struct SystemTimeZoneError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

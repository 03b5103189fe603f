import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One line per log event on stderr, in the form journald reads: under systemd
/// (`JOURNAL_STREAM` names our stderr) a `<N>` sd-daemon priority prefix and no
/// timestamp (the journal stamps every line itself); elsewhere an RFC 3339 UTC
/// timestamp and the level's name. Metadata follows the message as `key=value`.
public struct JournalLogHandler: LogHandler {
    /// How lines are written; decided once per process.
    public enum Style: Sendable, Equatable {
        /// `<6>message key=value`: for the journal.
        case journal
        /// `2026-01-01T00:00:00.000Z info: message key=value`: for a terminal or a file.
        case plain
    }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let style: Style
    let label: String

    public init(label: String, level: Logger.Level, style: Style = JournalLogHandler.styleForStandardError()) {
        self.label = label
        self.logLevel = level
        self.style = style
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var line = Self.format(level: event.level, message: "\(event.message)", metadata: merged, style: style)
        line.append("\n")
        Self.write(line)
    }

    /// The line for one event (without the newline).
    static func format(
        level: Logger.Level, message: String, metadata: Logger.Metadata, style: Style, now: Date = Date()
    ) -> String {
        var line: String
        switch style {
        case .journal: line = "<\(priority(level))>"
        case .plain: line = timestamp(now) + " \(level.rawValue): "
        }
        // A line break would split the event into several journal entries.
        line += escapedLineBreaks(message)
        for key in metadata.keys.sorted() {
            line += " \(key)=\(quotedIfNeeded(escapedLineBreaks("\(metadata[key]!)")))"
        }
        return line
    }

    /// The sd-daemon(3) priority of a level (`<7>` debug .. `<2>` critical).
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// `.journal` when `JOURNAL_STREAM` (`device:inode`) names the file stderr is, as
    /// systemd.exec(5) says to check; `.plain` otherwise (also when stderr was redirected).
    public static func styleForStandardError(environment: [String: String] = ProcessInfo.processInfo.environment) -> Style {
        guard let stream = environment["JOURNAL_STREAM"] else { return .plain }
        let parts = stream.split(separator: ":")
        var status = stat()
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]),
            fstat(STDERR_FILENO, &status) == 0
        else { return .plain }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode ? .journal : .plain
    }

    private static let writeLock = Mutex(())

    private static func write(_ line: String) {
        writeLock.withLock { _ in
            var bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeMutableBytes { Glibc.write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return }
                offset += n
            }
        }
    }

    private static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ n: Int32, _ width: Int) -> String {
            let text = String(n)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds % 1000), 3))Z"
    }

    private static func escapedLineBreaks(_ text: String) -> String {
        guard text.contains(where: { $0 == "\n" || $0 == "\r" }) else { return text }
        return text.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func quotedIfNeeded(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

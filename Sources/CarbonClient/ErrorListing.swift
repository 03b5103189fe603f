/// A long list of record errors as a person reads it on a terminal: the first
/// `terminalLimit` lines and how many more there are. Scripts (output not a terminal) and
/// `--json` get every one.
public enum ErrorListing {
    /// How many record errors a terminal shows.
    public static let terminalLimit = 20

    /// `lines`, cut to `limit` (nil: all) with a last line counting the rest.
    public static func lines(_ lines: [String], limit: Int?) -> [String] {
        guard let limit, lines.count > limit else { return lines }
        let rest = lines.count - limit
        return Array(lines.prefix(limit)) + ["... and \(rest) more record\(rest == 1 ? "" : "s") (--json lists every one)"]
    }
}

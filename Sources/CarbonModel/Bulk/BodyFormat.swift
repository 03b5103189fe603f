/// The formats of a bulk body (`POST /v1/readings`, `POST /v1/consumers`).
public enum BodyFormat: Sendable, Equatable, Hashable, CaseIterable {
    /// `application/json`: an array of objects (a single object is a batch of one).
    case json
    /// `application/x-ndjson` (or `application/ndjson`): one object a line.
    case ndjson
    /// `text/csv`: RFC 4180 with a header row naming the fields.
    case csv

    /// The format of a `Content-Type` value; nil when unsupported (answer 415).
    /// Parameters (`; charset=utf-8`) are ignored and case does not matter.
    public init?(contentType: String) {
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch mediaType.trimmingSpaces().lowercased() {
        case "application/json": self = .json
        case "application/x-ndjson", "application/ndjson": self = .ndjson
        case "text/csv": self = .csv
        default: return nil
        }
    }

    /// The media type to name the format with.
    public var contentType: String {
        switch self {
        case .json: "application/json"
        case .ndjson: "application/x-ndjson"
        case .csv: "text/csv"
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    fileprivate func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return self[first...last]
    }
}

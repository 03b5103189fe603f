import TOMLKit

/// A TOML table being read into a `Config`: it knows its dotted path, so every error
/// names the exact key, and it refuses keys nobody asked for, so a typo never
/// silently falls back to a default.
struct TOMLSection {
    private let table: TOMLTable
    /// Dotted path of this table (`""` for the document, `access.grant[2]`).
    let path: String

    /// Reads `table`, failing on the first key (in byte order) that is not in `allowedKeys`.
    init(_ table: TOMLTable, path: String, allowedKeys: [String]) throws(ConfigError) {
        self.table = table
        self.path = path
        for key in table.keys.sorted() where !allowedKeys.contains(key) {
            let what = table[key]?.type == .table ? "unknown table" : "unknown key"
            let hint = closestKey(to: key, in: allowedKeys).map { " (did you mean \"\($0)\"?)" } ?? ""
            let expected = allowedKeys.isEmpty
                ? "" : "; \(path.isEmpty ? "the file" : path) has \(list(allowedKeys, or: false))"
            throw ConfigError(key: keyPath(key), message: "\(what)\(hint)\(hint.isEmpty ? expected : "")")
        }
    }

    /// The dotted path of `key` in this table.
    func keyPath(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// Whether the table has `key`.
    func has(_ key: String) -> Bool {
        table[key] != nil
    }

    /// An error about `key` of this table.
    func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(key: keyPath(key), message: message)
    }

    /// An error about this table as a whole.
    func error(_ message: String) -> ConfigError {
        ConfigError(key: path, message: message)
    }

    // MARK: Typed values

    /// A string, or `nil` when the key is absent.
    func string(_ key: String, expected: String = "a string") throws(ConfigError) -> String? {
        guard let value = table[key] else { return nil }
        guard let string = value.string else { throw typeError(key, expected: expected, got: value) }
        return string
    }

    /// A string that must not be empty.
    func nonEmptyString(_ key: String) throws(ConfigError) -> String? {
        guard let string = try string(key) else { return nil }
        guard !string.isEmpty else { throw error(key, "must not be empty") }
        return string
    }

    /// An integer within `range`, or `nil` when the key is absent.
    func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let value = table[key] else { return nil }
        guard let int = value.int else { throw typeError(key, expected: "an integer", got: value) }
        guard range.contains(int) else { throw error(key, rangeMessage(range, got: int)) }
        return int
    }

    /// A boolean, or `nil` when the key is absent.
    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let bool = value.bool else { throw typeError(key, expected: "true or false", got: value) }
        return bool
    }

    /// A duration string (`30s`, `72h`) of at least `minimum`, or `nil` when the key is absent.
    func duration(_ key: String, atLeast minimum: ConfigDuration) throws(ConfigError) -> ConfigDuration? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else {
            throw typeError(key, expected: "a duration string like \"30s\", \"72h\" or \"7d\"", got: value)
        }
        switch ConfigDuration.parse(text) {
        case .failure(let failure):
            throw error(key, "\(quoted(text)): \(failure.description)")
        case .success(let duration):
            guard duration >= minimum else {
                throw error(key, minimum.seconds == 1 ? "must be positive (got \(quoted(text)))"
                    : "must be at least \(minimum) (got \(quoted(text)))")
            }
            return duration
        }
    }

    /// One of `Choice`'s raw values, or `nil` when the key is absent.
    func choice<Choice: RawRepresentable & CaseIterable>(
        _ key: String, _: Choice.Type, noun: String = "value"
    ) throws(ConfigError) -> Choice? where Choice.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let choice = Choice(rawValue: text) else {
            let names = Choice.allCases.map(\.rawValue)
            throw error(key, "unknown \(noun) \(quoted(text)) (expected \(list(names, or: true)))")
        }
        return choice
    }

    /// An array of non-empty strings, or `nil` when the key is absent.
    func stringArray(_ key: String) throws(ConfigError) -> [String]? {
        guard let value = table[key] else { return nil }
        guard let array = value.array else { throw typeError(key, expected: "an array of strings", got: value) }
        var strings: [String] = []
        for (index, element) in array.enumerated() {
            let elementPath = "\(keyPath(key))[\(index)]"
            guard let string = element.string else {
                throw ConfigError(key: elementPath, message: "expected a string, got \(describe(element))")
            }
            guard !string.isEmpty else { throw ConfigError(key: elementPath, message: "must not be empty") }
            strings.append(string)
        }
        return strings
    }

    /// A sub-table (`[a.b]` or `b = { ... }`), or `nil` when the key is absent.
    func section(_ key: String, allowedKeys: [String]) throws(ConfigError) -> TOMLSection? {
        guard let value = table[key] else { return nil }
        guard let sub = value.table else { throw typeError(key, expected: "a table", got: value) }
        return try TOMLSection(sub, path: keyPath(key), allowedKeys: allowedKeys)
    }

    /// An array of tables (`[[a.b]]`), each named `a.b[i]`, or `nil` when the key is absent.
    func sections(_ key: String, allowedKeys: [String]) throws(ConfigError) -> [TOMLSection]? {
        guard let value = table[key] else { return nil }
        let expected = "an array of tables ([[\(keyPath(key))]])"
        guard let array = value.array else { throw typeError(key, expected: expected, got: value) }
        var sections: [TOMLSection] = []
        for (index, element) in array.enumerated() {
            let elementPath = "\(keyPath(key))[\(index)]"
            guard let sub = element.table else {
                throw ConfigError(key: elementPath, message: "expected a table, got \(describe(element))")
            }
            sections.append(try TOMLSection(sub, path: elementPath, allowedKeys: allowedKeys))
        }
        return sections
    }

    private func typeError(_ key: String, expected: String, got value: TOMLValueConvertible) -> ConfigError {
        error(key, "expected \(expected), got \(describe(value))")
    }
}

/// A TOML value as an error message shows it: `string "512"`, `integer 60`, `a table`.
private func describe(_ value: TOMLValueConvertible) -> String {
    switch value.type {
    case .string: return "string \(quoted(String((value.string ?? "").prefix(60))))"
    case .int: return "integer \(value.int.map(String.init) ?? "")"
    case .double: return "floating-point number \(value.double.map { "\($0)" } ?? "")"
    case .bool: return "\(value.bool == true)"
    case .table: return "a table"
    case .array: return "an array"
    case .date: return "a date"
    case .time: return "a time"
    case .dateTime: return "a date-time"
    }
}

private func rangeMessage(_ range: ClosedRange<Int>, got value: Int) -> String {
    if range.upperBound == Int.max {
        return range.lowerBound == 0 ? "must not be negative (got \(value))"
            : range.lowerBound == 1 ? "must be positive (got \(value))"
            : "must be at least \(range.lowerBound) (got \(value))"
    }
    return "must be between \(range.lowerBound) and \(range.upperBound) (got \(value))"
}

/// `a, b or c` (or `a, b and c`).
func list(_ items: [String], or: Bool) -> String {
    guard items.count > 1 else { return items.first ?? "" }
    return items.dropLast().joined(separator: ", ") + (or ? " or " : " and ") + items[items.count - 1]
}

/// The allowed key a typo most likely meant: at most two edits away, and closer than
/// half its length, so short unrelated keys are not suggested.
private func closestKey(to key: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(Array(key), Array($0))) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return best.1 <= 2 && best.1 * 2 < max(best.0.count, 2) ? best.0 : nil
}

/// Levenshtein distance.
private func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        previous = current
    }
    return previous[b.count]
}

/// A strict reader of the Prometheus text exposition format (version 0.0.4), so a
/// test fails on anything a scraper could misread: a sample before its TYPE, a
/// family split in two, a repeated series, a malformed name, label or value.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Family {
        var name: String
        var type: String
        var help: String?
        var samples: [Sample] = []
    }

    private(set) var families: [String: Family] = [:]

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    init(_ text: String) throws {
        var current: String?
        var finished: Set<String> = []
        var pendingHelp: [String: String] = [:]
        var seen: Set<String> = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            func fail(_ why: String) -> Malformed { Malformed(description: "line \(number + 1): \(why): \(line)") }
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
                guard words.count >= 3, words[0] == "#" else { continue }  // a plain comment
                let name = words[2]
                guard Self.isMetricName(name) else { throw fail("bad metric name") }
                switch words[1] {
                case "HELP":
                    guard pendingHelp[name] == nil, families[name]?.help == nil else { throw fail("second HELP") }
                    let help = words.count == 4 ? try Self.unescapeHelp(words[3]) : ""
                    if families[name] != nil { families[name]!.help = help } else { pendingHelp[name] = help }
                case "TYPE":
                    guard words.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(words[3]) else {
                        throw fail("bad TYPE")
                    }
                    guard families[name] == nil else { throw fail("second TYPE") }
                    if let current, current != name { finished.insert(current) }
                    families[name] = Family(name: name, type: words[3], help: pendingHelp.removeValue(forKey: name))
                    current = name
                default:
                    continue
                }
                continue
            }
            let sample = try Self.sample(line) ?? { throw fail("not a sample") }()
            let family = Self.family(of: sample.name, in: families)
            guard let family else { throw fail("sample without a TYPE") }
            guard !finished.contains(family) else { throw fail("samples of \(family) are not together") }
            if let current, current != family { finished.insert(current) }
            current = family
            let key = sample.name + "{" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
            guard seen.insert(key).inserted else { throw fail("repeated series") }
            families[family]!.samples.append(sample)
        }
        guard pendingHelp.isEmpty else { throw Malformed(description: "HELP without samples or TYPE: \(pendingHelp.keys)") }
        try checkHistograms()
    }

    /// The one sample of `name` with exactly `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        guard let family = Self.family(of: name, in: families) else { return nil }
        return families[family]?.samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// A histogram's family name: samples are `_bucket`, `_sum`, `_count`.
    private static func family(of sample: String, in families: [String: Family]) -> String? {
        if families[sample] != nil { return sample }
        for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if families[base]?.type == "histogram" { return base }
        }
        return nil
    }

    /// Buckets rise with `le`, end at +Inf, and +Inf equals `_count`.
    private func checkHistograms() throws {
        for family in families.values where family.type == "histogram" {
            var series: [[String: String]: [(le: Double, count: Double)]] = [:]
            for sample in family.samples where sample.name == family.name + "_bucket" {
                guard let leText = sample.labels["le"], let le = Self.number(leText) else {
                    throw Malformed(description: "\(family.name): bucket without le")
                }
                var labels = sample.labels
                labels["le"] = nil
                series[labels, default: []].append((le, sample.value))
            }
            for (labels, buckets) in series {
                let sorted = buckets.sorted { $0.le < $1.le }
                guard zip(sorted, sorted.dropFirst()).allSatisfy({ $0.count <= $1.count }), sorted.last?.le == .infinity,
                    sorted.last?.count == value(family.name + "_count", labels), value(family.name + "_sum", labels) != nil
                else { throw Malformed(description: "\(family.name)\(labels): inconsistent buckets") }
            }
        }
    }

    private static func isMetricName(_ name: String) -> Bool {
        func letter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || c == ":" }
        guard let first = name.unicodeScalars.first, letter(first) else { return false }
        return name.unicodeScalars.allSatisfy { letter($0) || ("0"..."9").contains($0) }
    }

    private static func isLabelName(_ name: String) -> Bool {
        isMetricName(name) && !name.contains(":")
    }

    private static func number(_ text: String) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }

    private static func unescapeHelp(_ text: String) throws -> String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                switch character {
                case "\\": result.append("\\")
                case "n": result.append("\n")
                default: throw Malformed(description: "bad escape in HELP \(text)")
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        guard !escaped else { throw Malformed(description: "HELP ends in a backslash: \(text)") }
        return result
    }

    /// `name{label="value",...} value [timestamp]`.
    private static func sample(_ line: Substring) throws -> Sample? {
        var rest = line[...]
        let name = String(rest.prefix { $0 != "{" && $0 != " " })
        guard isMetricName(name) else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = String(rest.prefix { $0 != "=" })
                guard isLabelName(label), labels[label] == nil else { return nil }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while true {
                    guard let character = rest.first else { return nil }
                    rest = rest.dropFirst()
                    if character == "\"" { break }
                    if character == "\\" {
                        guard let next = rest.first else { return nil }
                        rest = rest.dropFirst()
                        switch next {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: return nil
                        }
                    } else {
                        value.append(character)
                    }
                }
                labels[label] = value
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { return nil }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { return nil }
        let fields = rest.dropFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard (1...2).contains(fields.count), let value = number(String(fields[0])) else { return nil }
        if fields.count == 2, Int64(fields[1]) == nil { return nil }
        return Sample(name: name, labels: labels, value: value)
    }
}

import CarbonAccounting

/// The language of an explanation from a request's `Accept-Language` (RFC 9110
/// section 12.5.4): the supported language of the highest `q` (the earlier range on a
/// tie); English when the header is absent, unreadable or names nothing supported.
///
/// Simplified Chinese: `zh`, `zh-CN`, `zh-SG`, `zh-Hans` and ranges under them.
/// Traditional Chinese (`zh-TW`, `zh-HK`, `zh-MO`, `zh-Hant`) is not written here, so
/// those ranges are skipped for the next preference. English: `en` and ranges under it.
/// `*` is any language: English. A range whose `q` cannot be read is skipped.
enum AcceptLanguage {
    static func explanationLanguage(_ fields: [String]) -> ExplanationLanguage {
        var best: (language: ExplanationLanguage, q: Int)? = nil
        for item in fields.joined(separator: ",").split(separator: ",") {
            let parts = item.split(separator: ";", omittingEmptySubsequences: false)
            var q = 1_000
            var readable = true
            for parameter in parts.dropFirst() {
                let text = trimmed(parameter)
                guard text.count >= 2, text.prefix(2).lowercased() == "q=" else { continue }
                if let value = qvalue(text.dropFirst(2)) { q = value } else { readable = false }
            }
            guard readable, q > 0, let language = language(of: trimmed(parts[0])) else { continue }
            if q > best?.q ?? 0 { best = (language, q) }
        }
        return best?.language ?? .english
    }

    /// The supported language a range names, if any.
    private static func language(of range: Substring) -> ExplanationLanguage? {
        if range == "*" { return .english }
        let subtags = range.lowercased().split(separator: "-", omittingEmptySubsequences: false)
        guard let primary = subtags.first,
            subtags.allSatisfy({ (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
        else { return nil }
        switch primary {
        case "en":
            return .english
        case "zh":
            let traditional: Set<Substring> = ["hant", "tw", "hk", "mo"]
            return subtags.dropFirst().contains(where: traditional.contains) ? nil : .simplifiedChinese
        default:
            return nil
        }
    }

    /// A qvalue in thousandths: `0`, `0.5`, `1`, `1.000`; nil otherwise.
    private static func qvalue(_ text: Substring) -> Int? {
        let pieces = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = pieces.first, whole == "0" || whole == "1" else { return nil }
        let fraction = pieces.count == 2 ? pieces[1] : ""
        guard fraction.count <= 3, fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        var thousandths = Int(fraction) ?? 0
        for _ in fraction.count..<3 { thousandths *= 10 }
        let q = (whole == "1" ? 1_000 : 0) + thousandths
        return q <= 1_000 ? q : nil
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let c = text.first, c == " " || c == "\t" { text.removeFirst() }
        while let c = text.last, c == " " || c == "\t" { text.removeLast() }
        return text
    }
}

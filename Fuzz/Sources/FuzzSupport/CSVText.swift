/// One CSV row with every cell quoted (RFC 4180, `""` for a quote), so any text that a
/// parser accepted in a cell can be written back.
///
/// `byCharacter`: the factor-file reader sees a quote only as a whole `Character` (a `"`
/// followed by a combining mark is not one); the bulk readers see bytes.
public func csvRow(_ cells: [String], byCharacter: Bool = false) -> String {
    cells.map { cell in
        var quoted = "\""
        if byCharacter {
            for character in cell { quoted += character == "\"" ? "\"\"" : String(character) }
        } else {
            for scalar in cell.unicodeScalars { quoted.unicodeScalars.append(contentsOf: scalar == "\"" ? ["\"", "\""] : [scalar]) }
        }
        return quoted + "\""
    }.joined(separator: ",")
}

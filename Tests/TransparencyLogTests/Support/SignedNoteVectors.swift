import Foundation
import TransparencyLog

/// The values of Vectors/signed-note.md, parsed from its indented code blocks and tables.
struct SignedNoteVectors {
    let goSkey: String
    let goVkey: String
    let goPublicKeyHex: String
    let goText: String
    let goWant: String
    let badVkeys: [(key: String, comment: String)]
    let c2spVkey: String
    let c2spNote: String
    let hashTable: [(input: String, hex: String)]
    let treeLeaves: [[UInt8]]
    let treeRoots: [Int: String]
    let inclusion5in8: [String]
    let consistency6to8: [String]

    /// An indented code block with the paragraph line just before it.
    struct Block {
        let section: String
        let caption: String
        let lines: [String]
    }

    static let shared: SignedNoteVectors = {
        do { return try SignedNoteVectors(markdown: VectorFiles.text("signed-note.md")) } catch {
            fatalError("cannot read signed-note.md: \(error)")
        }
    }()

    init(markdown: String) throws {
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks: [Block] = []
        var section = ""
        var caption = ""
        var current: [String] = []
        var pendingBlank = 0
        var prose: [String: [String]] = [:]
        var tables: [String: [[String]]] = [:]
        func flush() {
            if !current.isEmpty { blocks.append(Block(section: section, caption: caption, lines: current)) }
            current = []
            pendingBlank = 0
        }
        for line in lines {
            if line.hasPrefix("    ") {
                if !current.isEmpty { current += Array(repeating: "", count: pendingBlank) }
                pendingBlank = 0
                current.append(String(line.dropFirst(4)))
            } else if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !current.isEmpty { pendingBlank += 1 }
            } else {
                flush()
                if line.hasPrefix("## ") {
                    section = String(line.dropFirst(3))
                    caption = ""
                } else if line.hasPrefix("|") {
                    let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                    if !cells.allSatisfy({ $0.allSatisfy { $0 == "-" } }) { tables[section, default: []].append(cells) }
                } else {
                    caption = line
                    prose[section, default: []].append(line)
                }
            }
        }
        flush()

        func value(_ prefix: String, in sectionPrefix: String) throws -> String {
            for block in blocks where block.section.hasPrefix(sectionPrefix) {
                for line in block.lines where line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
            }
            throw VectorError.missing(prefix)
        }
        func block(captioned prefix: String) throws -> Block {
            guard let found = blocks.first(where: { $0.caption.hasPrefix(prefix) }) else { throw VectorError.missing(prefix) }
            return found
        }

        goSkey = try value("skey = ", in: "Go")
        goVkey = try value("vkey = ", in: "Go")
        goPublicKeyHex = try value("public key (hex) = ", in: "Go")
        goText = try block(captioned: "text (two lines").lines.map { $0 + "\n" }.joined()
        let signatureLine = try block(captioned: "signed note `want`").lines[0]
        goWant = goText + "\n" + signatureLine + "\n"
        badVkeys = try block(captioned: "Verifier keys that must be refused").lines
            .filter { !$0.hasPrefix("any ") }
            .map { line in
                let parts = line.split(separator: " ", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
            }
        c2spVkey = try value("vkey = ", in: "C2SP")
        c2spNote = try block(captioned: "verifies the note").lines.map { $0 + "\n" }.joined()
        hashTable = (tables["RFC 6962 hashing"] ?? []).dropFirst().map { ($0[0], $0[1]) }

        let leafProse = (prose["8-leaf test tree"] ?? []).drop { !$0.hasPrefix("Leaves") }.prefix { !$0.hasPrefix("|") }
        let leafText = leafProse.prefix(2).joined(separator: " ")
        treeLeaves = leafText.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }
            .map { $0.element == "\"\"" ? [] : Self.hexBytes(String($0.element)) }
        var roots: [Int: String] = [:]
        for row in (tables["8-leaf test tree"] ?? []).dropFirst() { roots[Int(row[0])!] = row[1] }
        treeRoots = roots
        inclusion5in8 = try block(captioned: "Inclusion proof of leaf 5").lines
        consistency6to8 = try block(captioned: "Consistency proof 6 -> 8").lines
    }

    enum VectorError: Error { case missing(String) }

    static func hexBytes(_ hex: String) -> [UInt8] {
        let chars = Array(hex.utf8)
        return stride(from: 0, to: chars.count, by: 2).map { UInt8(String(decoding: chars[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }
}

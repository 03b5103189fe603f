import CarbonConfig
import Foundation
import Testing

/// Inputs `make fuzz` (FuzzConfig) found crashing the config parser, kept so they stay fixed.
@Suite("Config fuzz regressions")
struct FuzzRegressionTests {
    /// The fuzzer's input: `[` then bytes that are not UTF-8 (read as U+FFFD) made toml++
    /// abort on an assertion instead of reporting the bad header.
    @Test("a table header that does not start with a key is an error, not an abort")
    func fuzzerInput() throws {
        let url = try #require(Bundle.module.url(forResource: "FuzzRegressions/table-header-not-a-key", withExtension: "toml"))
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        let error = #expect(throws: ConfigError.self) { try Config.parse(toml: text, baseDirectory: "/") }
        #expect(error?.message == "line 1: a table header must start with a key, as in [daemon]")
    }

    /// The fuzzer's input: an array value with a `}` where a value or `]` belongs made
    /// toml++ abort on an assertion.
    @Test("a brace inside an array is an error, not an abort")
    func braceInsideArray() throws {
        let url = try #require(Bundle.module.url(forResource: "FuzzRegressions/brace-inside-array", withExtension: "toml"))
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        let error = #expect(throws: ConfigError.self) { try Config.parse(toml: text, baseDirectory: "/") }
        #expect(error?.message == "line 4: '}' inside an array; an array ends with ']'")
    }

    @Test("braces toml++ would abort on", arguments: [
        ("a = [}", 1), ("[program]\nfactors = [\"a.csv\" }\n", 2), ("a = [1,\n# c\n}", 3), ("a = {b = [}]}", 1),
    ])
    func abortingBraces(toml: String, line: Int) {
        let error = #expect(throws: ConfigError.self) { try Config.parse(toml: toml, baseDirectory: "/") }
        #expect(error?.message == "line \(line): '}' inside an array; an array ends with ']'")
    }

    @Test("headers toml++ would abort on", arguments: [
        ("[\n", 1), ("[[\n", 1), ("[daemon]\nsocket = \"x\"\n\n[ =", 4), ("[ #c\n", 1), ("[[ \u{E9}]]", 1),
        ("a = \"\"\"\nx\n\"\"\"\n[.", 4),
    ])
    func abortingHeaders(toml: String, line: Int) {
        let error = #expect(throws: ConfigError.self) { try Config.parse(toml: toml, baseDirectory: "/") }
        #expect(error?.message == "line \(line): a table header must start with a key, as in [daemon]")
    }

    /// A `[` that starts a line inside a string or an array value is not a header, and a
    /// `}` in a string or in an inline table within an array is not inside the array.
    @Test("brackets in strings, comments and values are read as such", arguments: [
        "[daemon]\nsocket_group = \"\"\"\n[=\"\"\"\n",
        "[daemon]\nsocket_group = '''\n[\n'''\n",
        "# [\n[daemon] # [=\nsocket_group = \"[\"\n",
        "[program]\nfactors = [\n[\n\"a\"]]\n",
        "[program]\nfactors = [{ a = [\"}\"] }, \"x\"]\n",
    ])
    func notHeaders(toml: String) {
        do {
            _ = try Config.parse(toml: toml, baseDirectory: "/")
        } catch {
            #expect(!error.message.contains("table header") && !error.message.contains("inside an array"), "\(error)")
        }
    }
}

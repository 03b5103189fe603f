import Testing

@testable import CarbonModel

@Suite("JSON parser")
struct JSONParserTests {
    @Test("parses every kind of value, with whitespace")
    func values() throws {
        let text = " {\n\t\"a\" : [ 1 , -2 , true , false , null , \"x\\ty\" ] , \"b\" : { } , \"c\":[]\r\n} "
        let value = try JSONValue.parse(text)
        #expect(value == ["a": [1, -2, true, false, nil, "x\ty"], "b": [:], "c": []])
        #expect(value["a"]?.arrayValue?.first?.intValue == 1)
        #expect(value["b"]?.objectValue?.isEmpty == true)
        #expect(try JSONValue.parse("\"s\"").stringValue == "s")
        #expect(try JSONValue.parse("null").isNull)
        #expect(try JSONValue.parse("true").boolValue == true)
    }

    @Test("escapes decode, surrogate pairs included")
    func escapes() throws {
        let value = try JSONValue.parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u4E2D\ud83d\ude00\u0000""#)
        #expect(value == .string("\"\\/\u{8}\u{C}\n\r\tAé中😀\u{0}"))
    }

    @Test("Int64 extremes parse; one past them does not")
    func integerRange() throws {
        #expect(try JSONValue.parse("9223372036854775807") == .int(.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(.min))
        #expect(kind("9223372036854775808") == .numberOutOfRange)
        #expect(kind("-9223372036854775809") == .numberOutOfRange)
        #expect(kind("123456789012345678901234567890") == .numberOutOfRange)
        #expect(try JSONValue.parse("-0") == .int(0))
    }

    @Test("fractions and exponents are refused as non-integers")
    func nonIntegers() {
        for text in ["1.5", "1.0", "1e3", "1E+3", "-2.5e-3", "[0.1]"] {
            #expect(kind(text) == .nonInteger, "\(text)")
        }
    }

    @Test("malformed input is a syntax error at the right place")
    func syntax() {
        let cases: [(String, Int)] = [
            ("", 0), ("   ", 3), ("01", 0), ("+1", 0), ("1.", 0), (".5", 0), ("-", 0), ("NaN", 0), ("[1,]", 3),
            ("[1 2]", 3), ("{\"a\" 1}", 5), ("{\"a\":1,}", 7), ("{a:1}", 1), ("\"abc", 0), ("\"a\nb\"", 2),
            ("\"\\x\"", 1), ("\"\\u12G4\"", 1), ("\"\\ud800\"", 1), ("\"\\udc00\"", 1), ("\"\\ud800\\u0041\"", 1),
            ("tru", 0), ("nul", 0), ("[1] x", 4), ("{\"a\":1}}", 7), ("\u{FEFF}1", 0), ("[", 1), ("{", 1),
            ("\"a\u{1}\"", 2),
        ]
        for (text, offset) in cases {
            do {
                _ = try JSONValue.parse(text)
                Issue.record("\(text.debugDescription) parsed")
            } catch {
                #expect(error.kind == .syntax, "\(text.debugDescription): \(error)")
                #expect(error.offset == offset, "\(text.debugDescription): \(error)")
            }
        }
    }

    @Test("duplicate keys, deep nesting and invalid UTF-8 are refused")
    func otherRefusals() {
        #expect(kind(#"{"a":1,"b":2,"a":3}"#) == .duplicateKey)
        #expect(kind(String(repeating: "[", count: 300) + String(repeating: "]", count: 300)) == .tooDeep)
        #expect(throws: Never.self) {
            try JSONValue.parse(String(repeating: "[", count: 200) + String(repeating: "]", count: 200))
        }
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xE0, 0x80, 0xAF, 0x22]]
        {
            do {
                _ = try JSONValue.parse(bytes)
                Issue.record("\(bytes) parsed")
            } catch {
                #expect(error.kind == .notUTF8)
                #expect(error.offset == 1)
            }
        }
    }

    @Test("messages name the problem")
    func messages() {
        #expect(message("[1,]").contains("expected a value, found ']'"))
        #expect(message("012").contains("leading zeros"))
        #expect(message("1.5").contains("1.5 is not an integer"))
        #expect(message("\"a\u{1}\"").contains("U+0001"))
    }

    @Test("parses from any collection of bytes")
    func collections() throws {
        let bytes = Array("[1,2]".utf8)
        #expect(try JSONValue.parse(bytes[...]) == [1, 2])
        #expect(try JSONValue.parse(ArraySlice(bytes).reversed().reversed()) == [1, 2])
        let fromBuffer = bytes.withUnsafeBytes { try? JSONValue.parse($0) }
        #expect(fromBuffer == [1, 2])
    }

    private func kind(_ text: String) -> JSONParseError.Kind? {
        do {
            _ = try JSONValue.parse(text)
            return nil
        } catch {
            return error.kind
        }
    }

    private func message(_ text: String) -> String {
        do {
            _ = try JSONValue.parse(text)
            return ""
        } catch {
            return error.message
        }
    }
}
